"""Static files in production: WhiteNoise's compressed manifest storage, with each file's address kept."""

from typing import Any

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """The manifest is read once, when the process starts, so a file's hashed address does not change while
    it runs: work it out once per name instead of at each `{% static %}` of every page (a page names five)."""

    _MAX_REMEMBERED = 2000  # names come from the templates; a bound all the same

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name: str, force: bool = False) -> str:
        if force:
            return super().url(name, force)
        url = self._urls.get(name)
        if url is None:
            url = super().url(name)
            if len(self._urls) < self._MAX_REMEMBERED:
                self._urls[name] = url
        return url
