from io import StringIO

from django.core.management import call_command


def test_bench_matching_prints_its_figures():
    out = StringIO()
    call_command("bench", "matching", "--searches", "20", "--posts", "400", stdout=out)
    report = out.getvalue()
    for figure in ("prefiltered:", "unfiltered:", "ratio:", "posts/s", "agreement:   identical"):
        assert figure in report
