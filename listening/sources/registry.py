from listening.sources.base import Source

# Platforms with a source in this installation; the others can be chosen (their
# compiled query is shown) but harvest runs report that no source is installed.
INSTALLED = ("demo",)


def installed_platforms() -> tuple[str, ...]:
    return INSTALLED


def get_source(platform: str) -> Source:
    if platform == "demo":
        from listening.sources.demo import DemoSource

        return DemoSource()
    raise LookupError(f"No source is installed for the platform {platform!r}.")
