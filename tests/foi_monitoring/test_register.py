"""The authority register: the bundled import, re-import in place, and CSV uploads all-or-nothing."""

import pytest
from django.core.management import CommandError, call_command

from foi_monitoring.models import PublicAuthority

pytestmark = pytest.mark.django_db


def test_it_imports_the_bundled_councils_with_their_alternative_names_and_bodies_without_defunct_ones():
    call_command("import_authorities", stdout=open("/dev/null", "w"))
    lewisham = PublicAuthority.objects.get(code="LEW")
    assert lewisham.name == "London Borough of Lewisham"
    assert lewisham.short_name == "Lewisham"
    assert "lewisham london boro" in lewisham.aliases
    # publicbodies' "Lewisham Borough Council" is merged into mySociety's row, not a second authority.
    assert "Lewisham Borough Council" in lewisham.aliases
    assert "lewisham.gov.uk" in lewisham.web_domains
    assert not PublicAuthority.objects.filter(name="Lewisham Borough Council").exists()
    assert PublicAuthority.objects.exclude(code="").count() == 470
    assert PublicAuthority.objects.filter(source_id="publicbodies:gb/ico").exists()
    # Alnwick District Council is tagged defunct in publicbodies.
    assert not PublicAuthority.objects.filter(name="Alnwick District Council").exists()


def test_importing_again_updates_rows_in_place_and_keeps_what_admins_added():
    call_command("import_authorities", stdout=open("/dev/null", "w"))
    count = PublicAuthority.objects.count()
    kent = PublicAuthority.objects.get(code="KEN")
    kent.handles = {"x": ["KentCC"]}
    kent.name = "Kent CC (renamed by hand)"
    kent.save()
    call_command("import_authorities", stdout=open("/dev/null", "w"))
    kent.refresh_from_db()
    assert PublicAuthority.objects.count() == count
    assert kent.name == "Kent County Council"
    assert kent.handles == {"x": ["KentCC"]}


def _write(tmp_path, text):
    path = tmp_path / "register.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_it_imports_a_good_csv_and_updates_by_code(tmp_path):
    path = _write(
        tmp_path,
        "name,code,aliases,handles,web_domains,authority_type,active\n"
        "Example Borough Council,EXB,Example Council;EBC Council,x:ExampleBC;bluesky:example.gov.uk,example.gov.uk,District,yes\n"
        "Example Water Board,,,,water.example.org,Board,no\n",
    )
    call_command("import_authorities", "--csv", path, stdout=open("/dev/null", "w"))
    example = PublicAuthority.objects.get(code="EXB")
    assert example.aliases == ["Example Council", "EBC Council"]
    assert example.handles == {"x": ["ExampleBC"], "bluesky": ["example.gov.uk"]}
    assert PublicAuthority.objects.get(name="Example Water Board").active is False
    path = _write(tmp_path, "name,code\nExample Borough Council (renamed),EXB\n")
    call_command("import_authorities", "--csv", path, stdout=open("/dev/null", "w"))
    assert PublicAuthority.objects.filter(code="EXB").get().name == "Example Borough Council (renamed)"
    assert PublicAuthority.objects.count() == 2


def test_it_rejects_a_csv_with_any_bad_row_whole_and_names_every_error(tmp_path):
    path = _write(
        tmp_path,
        "name,code,handles,web_domains,active\n"
        "Good Council,GOOD,,good.gov.uk,yes\n"
        ",BAD1,,,yes\n"
        "Bad Domain Council,BAD2,,not a domain,maybe\n"
        "Bad Handle Council,GOOD,myspace:someone,,\n",
    )
    with pytest.raises(CommandError) as raised:
        call_command("import_authorities", "--csv", path, stdout=open("/dev/null", "w"))
    message = str(raised.value)
    assert "line 3: Name is empty." in message
    assert "line 4: 'not a domain' is not a web domain" in message
    assert "line 4: Active must be yes or no" in message
    assert "line 5: 'myspace:someone'" in message
    assert "line 5: Code 'GOOD' is also on line 2." in message
    assert PublicAuthority.objects.count() == 0


def test_it_rejects_unknown_columns_and_files_that_are_not_utf8(tmp_path):
    from foi_monitoring.register import csv_import

    assert csv_import(b"name,colour\nA Council,red\n").errors[0][1][0] == "Unknown column 'colour'."
    assert csv_import("name\nCyngor Sir Ynys Môn\n".encode("latin-1")).errors == [(0, ["The file is not UTF-8 text."])]
    assert PublicAuthority.objects.count() == 0
