"""The risk catalogue: the default file loads, a bad file names file, entry and field."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from streams.core.shared.catalogue import DEFAULT_PATH, Catalogue, load_catalogue
from streams.core.shared.config import ConfigError, load_yaml


@functools.cache
def _parsed_default() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def _default_doc() -> dict[str, Any]:
    return copy.deepcopy(_parsed_default())


def _write(tmp_path: Path, doc: object, name: str = "catalogue.yaml") -> Path:
    """Write ``doc`` as YAML (in its JSON flow style: quick to write and to read)."""
    path = tmp_path / name
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


def _load_error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_catalogue(path)
    message = str(info.value)
    assert str(path) in message
    return message


def test_the_default_catalogue_loads() -> None:
    cat = load_catalogue()
    assert cat.version == 1
    assert len(cat.modules) == 11
    assert len(cat.risk_points) == 47  # the Yuhang case's 44 and three stations
    module_ids = {m.id for m in cat.modules}
    assert {"gas_safety", "flood_control", "fire_safety"} <= module_ids
    assert all(rp.module in module_ids for rp in cat.risk_points)
    assert {rp.module for rp in cat.risk_points} == module_ids  # no empty module
    gas = cat.risk_point("restaurant_gas_leak")
    assert gas.module == "gas_safety"
    assert gas.severity == "critical"
    assert gas.emergency is True
    assert gas.detector.kind == "threshold"
    assert gas.detector.params == {"upper": 20.0, "clear": 10.0}
    assert gas.labels == {"industry": "catering"}
    assert cat.risk_point("river_level_high").auto_dispose is True


def test_every_default_risk_point_builds_its_detector_and_trigger() -> None:
    for rp in load_catalogue().risk_points:
        det = rp.detector.cls.from_params(rp.detector.params)
        assert det.kind == rp.detector.kind
        assert rp.detector.version == rp.detector.cls.version >= 1
        trig = rp.make_trigger()
        assert 0.0 <= trig.threshold <= 1.0
        assert rp.source.input == rp.detector.cls.input


def test_a_trigger_entry_overrides_the_detector_default() -> None:
    hydrant = load_catalogue().risk_point("hydrant_pressure_low")
    assert hydrant.trigger.for_s == 600
    trig = hydrant.make_trigger()
    default = hydrant.detector.cls.default_trigger()
    assert (trig.threshold, trig.clear, trig.for_s) == (default.threshold, default.clear, 600.0)


def test_sensor_kind_and_event_type_lookup() -> None:
    cat = load_catalogue()
    assert [rp.id for rp in cat.for_sensor_kind("gas_lel")] == ["restaurant_gas_leak"]
    assert [rp.id for rp in cat.for_sensor_kind("water_depth_cm")] == ["underpass_waterlogging"]
    assert cat.for_sensor_kind("unknown_kind") == []
    assert "gas_alarm_after_failed_inspection" in [
        rp.id for rp in cat.for_event_type("fire_inspection_failed")
    ]
    assert cat.for_event_type("unknown_type") == []


def test_an_unknown_risk_point_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        load_catalogue().risk_point("no_such_point")


def test_the_default_file_round_trips_through_the_model(tmp_path: Path) -> None:
    path = _write(tmp_path, load_catalogue().model_dump(mode="json"))
    assert load_catalogue(path) == load_catalogue()


def test_the_catalogue_is_immutable() -> None:
    cat = load_catalogue()
    with pytest.raises(ValueError, match="frozen"):
        cat.version = 2  # type: ignore[assignment]


def _mutated(change: Any) -> dict[str, Any]:
    doc = _default_doc()
    change(doc)
    return doc


_INDEX = {rp["id"]: i for i, rp in enumerate(_default_doc()["risk_points"])}


def _rp(d: dict[str, Any], rp_id: str) -> dict[str, Any]:
    return d["risk_points"][_INDEX[rp_id]]


def _set_rp(rp_id: str, field: str, value: object) -> Any:
    return lambda d: _rp(d, rp_id).__setitem__(field, value)


def _del_rp(rp_id: str, field: str) -> Any:
    return lambda d: _rp(d, rp_id).pop(field)


def _entry(rp_id: str) -> str:
    return f"risk_points[{_INDEX[rp_id]}]({rp_id})"


GAS, FLOOD, RIVER, SMOKE = (
    "restaurant_gas_leak",
    "underpass_waterlogging",
    "river_level_high",
    "smoke_in_rental_flat",
)
COLLISION = "gas_alarm_after_failed_inspection"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            _set_rp(FLOOD, "module", "traffic"),
            [f"risk point '{FLOOD}': unknown module 'traffic'"],
            id="unknown-module",
        ),
        pytest.param(
            _set_rp(GAS, "severity", "severe"),
            [f"{_entry(GAS)}.severity", "'low', 'medium', 'high'"],
            id="bad-severity",
        ),
        pytest.param(
            _del_rp(RIVER, "detector"),
            [f"{_entry(RIVER)}.detector", "Field required"],
            id="missing-detector",
        ),
        pytest.param(
            lambda d: _rp(d, SMOKE)["detector"].__setitem__("kind", "zscore"),
            [f"{_entry(SMOKE)}.detector", "unknown detector kind 'zscore'", "'threshold'"],
            id="unknown-detector-kind",
        ),
        pytest.param(
            lambda d: _rp(d, GAS)["detector"].__setitem__("params", {}),
            [f"{_entry(GAS)}.detector", "threshold: missing parameters ['upper']"],
            id="missing-detector-param",
        ),
        pytest.param(
            lambda d: _rp(d, GAS)["detector"]["params"].__setitem__("lower", 1),
            [f"{_entry(GAS)}.detector", "threshold: unknown parameters ['lower']"],
            id="unknown-detector-param",
        ),
        pytest.param(
            lambda d: _rp(d, GAS)["detector"]["params"].__setitem__("clear", 30),
            [f"{_entry(GAS)}.detector", "normal side"],
            id="clear-above-upper",
        ),
        pytest.param(
            lambda d: _rp(d, GAS)["detector"]["params"].__setitem__("upper", "high"),
            [f"{_entry(GAS)}.detector", "could not convert"],
            id="non-numeric-param",
        ),
        pytest.param(
            _set_rp(GAS, "source", {"event_types": ["gas_alarm_report"]}),
            [_entry(GAS), "detector 'threshold' reads points: its source needs sensor_kind"],
            id="detector-does-not-fit-source",
        ),
        pytest.param(
            lambda d: _rp(d, COLLISION)["source"].__setitem__("event_types", ["gas_alarm_report"]),
            [_entry(COLLISION), "list them in source.event_types"],
            id="collision-type-not-listed",
        ),
        pytest.param(
            _set_rp(GAS, "trigger", {"threshold": 0.3, "clear": 0.4}),
            [_entry(GAS), "trigger clear must be in [0, threshold]"],
            id="trigger-clear-above-threshold",
        ),
        pytest.param(
            _set_rp(GAS, "trigger", {"threshold": 1.5}),
            [f"{_entry(GAS)}.trigger.threshold", "less than or equal to 1"],
            id="trigger-threshold-above-one",
        ),
        pytest.param(
            _set_rp(GAS, "trigger", {"for": 60}),
            [f"{_entry(GAS)}.trigger.for", "Extra inputs"],
            id="trigger-unknown-field",
        ),
        pytest.param(
            _set_rp(GAS, "source", {"sensor_kind": "gas_lel", "event_types": ["leak"]}),
            [f"{_entry(GAS)}.source", "exactly one"],
            id="source-with-both",
        ),
        pytest.param(
            _set_rp(GAS, "source", {}),
            [f"{_entry(GAS)}.source", "exactly one"],
            id="source-with-neither",
        ),
        pytest.param(
            _set_rp(COLLISION, "source", {"event_types": []}),
            [f"{_entry(COLLISION)}.source.event_types"],
            id="source-with-no-event-types",
        ),
        pytest.param(
            _set_rp(FLOOD, "id", "Underpass Waterlogging"),
            [f"risk_points[{_INDEX[FLOOD]}](Underpass Waterlogging).id", "pattern"],
            id="bad-id",
        ),
        pytest.param(
            _set_rp(GAS, "emergancy", True),
            [f"{_entry(GAS)}.emergancy", "Extra inputs"],
            id="misspelled-field",
        ),
        pytest.param(
            _set_rp(FLOOD, "emergency", "maybe"),
            [f"{_entry(FLOOD)}.emergency"],
            id="bad-bool",
        ),
        pytest.param(
            lambda d: d["risk_points"].append(copy.deepcopy(_rp(d, GAS))),
            [f"'{GAS}' is defined twice"],
            id="duplicate-risk-point",
        ),
        pytest.param(
            lambda d: d["modules"].append({"id": "gas_safety", "name": "again"}),
            ["module ids must be unique"],
            id="duplicate-module",
        ),
        pytest.param(
            lambda d: d["modules"][1].pop("name"),
            [f"modules[1]({_default_doc()['modules'][1]['id']}).name", "Field required"],
            id="module-without-name",
        ),
        pytest.param(
            lambda d: d["silences"][0]["heartbeats"].__setitem__("gas_lel", 0),
            ["silences[0]", "heartbeats.gas_lel: a heartbeat is a positive number"],
            id="silence-zero-heartbeat",
        ),
        pytest.param(
            lambda d: d["silences"][0]["heartbeats"].__setitem__("gas_meter", 60),
            ["silence 'gas_sensor_silent': no risk point reads sensor kind 'gas_meter'"],
            id="silence-unread-kind",
        ),
        pytest.param(
            lambda d: d["silences"][1]["heartbeats"].__setitem__("gas_lel", 60),
            ["silence 'fire_sensor_silent': sensor kind 'gas_lel' is watched by"],
            id="silence-kind-twice",
        ),
        pytest.param(
            lambda d: d["silences"][0].__setitem__("id", GAS),
            [f"silence '{GAS}': the id is taken"],
            id="silence-id-taken",
        ),
        pytest.param(
            lambda d: d["silences"][0].__setitem__("after", 1),
            ["silences[0]", "after", "greater than or equal to 2"],
            id="silence-after-too-short",
        ),
        pytest.param(
            lambda d: d["silences"][0].__setitem__("auto_dispose", True),
            ["silences[0]", "auto_dispose"],
            id="silence-auto-dispose",
        ),
        pytest.param(lambda d: d.__setitem__("version", 2), ["version"], id="version-2"),
        pytest.param(
            lambda d: d.__setitem__("risk_points", []), ["risk_points"], id="no-risk-points"
        ),
    ],
)
def test_a_bad_catalogue_names_file_entry_and_field(
    tmp_path: Path, change: Any, expected: list[str]
) -> None:
    message = _load_error(_write(tmp_path, _mutated(change)))
    for fragment in expected:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_every_error_line_names_the_file(tmp_path: Path) -> None:
    doc = _default_doc()
    doc["risk_points"][0]["severity"] = "severe"
    doc["risk_points"][_INDEX[FLOOD]]["emergency"] = "maybe"
    path = _write(tmp_path, doc)
    lines = _load_error(path).splitlines()
    assert len(lines) == 2
    assert all(line.startswith(f"{path}: risk_points[") for line in lines)


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("version: 1\nmodules: [\n  - id: x\n", encoding="utf-8")
    message = _load_error(path)
    assert "not valid YAML" in message


@pytest.mark.parametrize("text", ["", "just a string\n", "- a list\n"])
def test_a_document_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(text, encoding="utf-8")
    message = _load_error(path)
    assert "<file>" in message


def test_a_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    message = _load_error(path)
    assert "cannot read" in message


def test_load_yaml_takes_any_model(tmp_path: Path) -> None:
    path = _write(tmp_path, _default_doc())
    assert isinstance(load_yaml(path, Catalogue), Catalogue)
    assert load_yaml(str(path), Catalogue) == load_catalogue(path)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda d: _rp(d, GAS)["detector"]["params"].__setitem__("upper", None), id="null"
        ),
        pytest.param(
            lambda d: _rp(d, GAS)["detector"]["params"].__setitem__("upper", [20]), id="list"
        ),
        pytest.param(
            lambda d: _rp(d, "gas_pressure_shift")["detector"]["params"].__setitem__(
                "warmup", None
            ),
            id="null-int",
        ),
    ],
)
def test_a_detector_param_of_the_wrong_type_names_file_and_entry(
    tmp_path: Path, change: Any
) -> None:
    message = _load_error(_write(tmp_path, _mutated(change)))
    assert "detector" in message


def test_risk_point_ids_that_cannot_make_a_signal_are_refused_at_load(tmp_path: Path) -> None:
    doc = _default_doc()
    doc["risk_points"][_INDEX[GAS]]["id"] = "r" * 60
    message = _load_error(_write(tmp_path, doc))
    assert f"risk_points[{_INDEX[GAS]}]" in message
