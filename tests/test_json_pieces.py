"""loads_in_pieces decodes exactly what json.loads decodes, and refuses what it refuses."""
from __future__ import annotations

import json

import pytest

from pipeline.core.json_pieces import loads_in_pieces

DOCS = [
    {"version": 2, "items": [{"path": "/a b/ü.png", "label": None, "roi": [1, 2, 3, 4]}] * 5, "k": None},
    {"items": [], "nested": {"x": [1, [2, 3], {"y": "]"}]}, "s": "a,}b", "f": -1.5e-3, "t": True},
    {},
    [1, 2, {"a": 3}],
    "text",
    42,
]


@pytest.mark.parametrize("doc", DOCS)
@pytest.mark.parametrize("indent", [None, 2])
def test_same_result_as_json_loads(doc, indent):
    text = json.dumps(doc, indent=indent, ensure_ascii=False)
    assert loads_in_pieces(text) == json.loads(text)
    assert loads_in_pieces(f"  \n{text}\n ") == json.loads(f"  \n{text}\n ")


@pytest.mark.parametrize("bad", ['{"a": [1, 2', '{"a": [1 2]}', '{"a" 1}', '{"a": 1,}', '{"a": 1} x', '{a: 1}',
                                 '{"a": [1,]}', ""])
def test_malformed_input_raises_a_decode_error(bad):
    with pytest.raises(json.JSONDecodeError):
        loads_in_pieces(bad)
    with pytest.raises(json.JSONDecodeError):
        json.loads(bad)
