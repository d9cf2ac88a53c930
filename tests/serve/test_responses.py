"""The response structure renders to well-formed XML and the same JSON."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from musark.serve.responses import envelope, to_json, to_xml


def test_xml_and_json_carry_the_same_structure():
    body = envelope(
        {
            "album": {
                "id": "al-1",
                "name": 'Tom & "Jerry" <live>\x01',
                "song": [{"id": "tr-1", "isDir": False}, {"id": "tr-2", "starred": None}],
                "genres": [{"name": "rock"}],
            },
            "lyrics": {"value": "la <la>"},
        }
    )
    root = ET.fromstring(to_xml(body).encode())
    ns = "{http://subsonic.org/restapi}"
    album = root.find(f"{ns}album")
    assert album.get("name") == 'Tom & "Jerry" <live>'  # control character dropped, rest escaped
    assert [s.get("id") for s in album.findall(f"{ns}song")] == ["tr-1", "tr-2"]
    assert album.find(f"{ns}song").get("isDir") == "false"
    assert album.findall(f"{ns}song")[1].get("starred") is None
    assert root.find(f"{ns}lyrics").text == "la <la>"
    assert root.get("openSubsonic") == "true" and root.get("type") == "musark"
    data = json.loads(to_json(body))["subsonic-response"]
    assert data["album"]["song"] == [{"id": "tr-1", "isDir": False}, {"id": "tr-2"}]
    assert data["lyrics"] == {"value": "la <la>"} and data["openSubsonic"] is True
