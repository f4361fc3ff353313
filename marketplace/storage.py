"""Where files that are not for everyone's eyes are kept."""

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateMediaStorage(FileSystemStorage):
    """Files under PRIVATE_MEDIA_ROOT, never served by URL: a page hands each one out only after
    checking who asks (conversation pictures), or only the site's own code reads them (inventory
    files a shop uploaded). The root is read from settings at each use."""

    def __init__(self):
        super().__init__(base_url=None)

    @property
    def base_location(self):
        return settings.PRIVATE_MEDIA_ROOT

    @property
    def location(self):
        return str(settings.PRIVATE_MEDIA_ROOT)

    def url(self, name):
        raise ValueError(f"{name} is private: it has no address, a view must hand it out.")

    def deconstruct(self):
        return ("marketplace.storage.PrivateMediaStorage", [], {})


private_storage = PrivateMediaStorage()
