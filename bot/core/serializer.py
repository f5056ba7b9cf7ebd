"""rq job serializer: JSON (never pickle), encoded with orjson for speed.

The bytes are ordinary JSON, so rq's own ``JSONSerializer`` reads them too; jobs carry only plain JSON values.
"""

from __future__ import annotations

from typing import Any

import orjson


class JSONSerializer:
    @staticmethod
    def dumps(obj: Any) -> bytes:
        return orjson.dumps(obj)

    @staticmethod
    def loads(data: bytes | str) -> Any:
        return orjson.loads(data)
