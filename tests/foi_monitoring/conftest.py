import pytest


@pytest.fixture(scope="module")
def uk_register(django_db_setup, django_db_blocker):
    """The bundled UK register, imported once for a module and removed after it."""
    from foi_monitoring import register
    from foi_monitoring.models import PublicAuthority

    with django_db_blocker.unblock():
        register.bundled_import()
        yield
        PublicAuthority.objects.all().delete()
