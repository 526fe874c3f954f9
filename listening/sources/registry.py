from listening.sources.base import Source


def get_source(platform: str) -> Source:
    if platform == "demo":
        from listening.sources.demo import DemoSource

        return DemoSource()
    raise LookupError(f"No source is installed for the platform {platform!r}.")
