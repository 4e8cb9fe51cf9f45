"""samconfig.toml editing: the endpoint name goes in, everything else stays exactly as the user wrote it.

SAM's own parser (samcli.cli.types.CfnParameterOverridesType) reads back what we write, so "SAM accepts it" is
checked by SAM, not assumed.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from samcli.cli.types import CfnParameterOverridesType

from mysfits.samconfig import (
    SamConfigError,
    cli_overrides,
    parse_overrides,
    read_overrides,
    set_endpoint_name,
    set_override,
)

STRING_FORM = """\
# SAM deploy defaults for the API stack
version = 0.1

[default.global.parameters]
stack_name = "mysfits-api"

[default.deploy.parameters]
capabilities = "CAPABILITY_IAM"   # the function role
confirm_changeset = false
# the endpoint name below is written by scripts/train_and_deploy.py
parameter_overrides = "LogLevel=INFO SageMakerEndpointName=mysfits-old AllowedOrigin=\\"http://localhost:3000\\"" # keep

[default.build.parameters]
cached = true
"""

LIST_FORM = """\
version = 0.1

[default.deploy.parameters]
stack_name = "mysfits-api"
parameter_overrides = [
    "LogLevel=DEBUG",  # noisy on purpose
    "SageMakerEndpointName=mysfits-old",
    "AllowedOrigin=https://example.org",
]
"""


def sam_reads(value) -> dict:
    """What `sam deploy` itself makes of a parameter_overrides value from samconfig.toml."""
    return dict(CfnParameterOverridesType().convert(value if isinstance(value, list) else (value,), None, None))


def test_string_form_replaces_only_the_endpoint_token(tmp_path):
    path = tmp_path / "samconfig.toml"
    path.write_text(STRING_FORM)
    merged = set_endpoint_name(path, "mysfits-knn")
    expected = STRING_FORM.replace("SageMakerEndpointName=mysfits-old", "SageMakerEndpointName=mysfits-knn")
    assert path.read_text() == expected
    assert merged == {
        "LogLevel": "INFO",
        "SageMakerEndpointName": "mysfits-knn",
        "AllowedOrigin": "http://localhost:3000",
    }


def test_list_form_keeps_its_items_order_and_comments(tmp_path):
    path = tmp_path / "samconfig.toml"
    path.write_text(LIST_FORM)
    set_endpoint_name(path, "mysfits-knn-2")
    assert path.read_text() == LIST_FORM.replace("mysfits-old", "mysfits-knn-2")


def test_endpoint_name_is_appended_when_absent(tmp_path):
    path = tmp_path / "samconfig.toml"
    path.write_text(STRING_FORM.replace("SageMakerEndpointName=mysfits-old ", ""))
    merged = set_endpoint_name(path, "mysfits-knn")
    assert list(merged) == ["LogLevel", "AllowedOrigin", "SageMakerEndpointName"]
    assert "# keep" in path.read_text() and "# SAM deploy defaults" in path.read_text()


def test_missing_file_and_missing_table_are_created(tmp_path):
    path = tmp_path / "samconfig.toml"
    assert set_endpoint_name(path, "mysfits-knn") == {"SageMakerEndpointName": "mysfits-knn"}
    assert read_overrides(path) == {"SageMakerEndpointName": "mysfits-knn"}
    assert "version = 0.1" in path.read_text()

    other = tmp_path / "other.toml"
    other.write_text("version = 0.1\n\n[default.build.parameters]\ncached = true\n")
    set_endpoint_name(other, "mysfits-knn")
    assert "[default.build.parameters]\ncached = true" in other.read_text()
    assert read_overrides(other) == {"SageMakerEndpointName": "mysfits-knn"}


def test_duplicates_collapse_to_the_new_value(tmp_path):
    path = tmp_path / "samconfig.toml"
    path.write_text(
        '[default.deploy.parameters]\nparameter_overrides = "SageMakerEndpointName=a LogLevel=INFO '
        'ParameterKey=SageMakerEndpointName,ParameterValue=b"\n'
    )
    set_endpoint_name(path, "mysfits-c")
    value = read_overrides(path)
    assert value == {"SageMakerEndpointName": "mysfits-c", "LogLevel": "INFO"}
    assert path.read_text().count("SageMakerEndpointName") == 1


def test_other_environments_are_untouched(tmp_path):
    path = tmp_path / "samconfig.toml"
    text = STRING_FORM + '\n[prod.deploy.parameters]\nparameter_overrides = "SageMakerEndpointName=mysfits-prod"\n'
    path.write_text(text)
    set_endpoint_name(path, "mysfits-dev")
    assert read_overrides(path, env="prod") == {"SageMakerEndpointName": "mysfits-prod"}
    assert read_overrides(path)["SageMakerEndpointName"] == "mysfits-dev"


@pytest.mark.parametrize("name", ["Mysfits", "mysfits_knn", "-mysfits", "mysfits-", "", "a" * 64, "my sfits"])
def test_bad_endpoint_names_are_refused_and_the_file_is_unchanged(tmp_path, name):
    path = tmp_path / "samconfig.toml"
    path.write_text(STRING_FORM)
    with pytest.raises(SamConfigError, match="lowercase letters, digits and hyphens"):
        set_endpoint_name(path, name)
    assert path.read_text() == STRING_FORM


def test_invalid_toml_names_the_file_and_is_left_alone(tmp_path):
    path = tmp_path / "samconfig.toml"
    path.write_text("[default.deploy.parameters\nparameter_overrides = 1\n")
    with pytest.raises(SamConfigError, match=r"samconfig\.toml: not valid TOML"):
        set_endpoint_name(path, "mysfits-knn")
    assert path.read_text() == "[default.deploy.parameters\nparameter_overrides = 1\n"
    assert list(tmp_path.iterdir()) == [path], "no temporary file may be left behind"


def test_non_string_overrides_are_refused(tmp_path):
    path = tmp_path / "samconfig.toml"
    path.write_text("[default.deploy.parameters]\nparameter_overrides = 3\n")
    with pytest.raises(SamConfigError, match="must be a string or a list of strings, found int"):
        set_endpoint_name(path, "mysfits-knn")


def test_what_we_write_is_what_sam_reads(tmp_path):
    import tomlkit

    for text in (STRING_FORM, LIST_FORM):
        path = tmp_path / "samconfig.toml"
        path.write_text(text)
        merged = set_override(path, "AllowedOrigin", 'https://say "hi".example')
        stored = tomlkit.parse(path.read_text())["default"]["deploy"]["parameters"]["parameter_overrides"].unwrap()
        assert sam_reads(stored) == merged
        assert sam_reads(cli_overrides(merged)) == merged


override_values = st.text(
    alphabet=st.characters(codec="ascii", categories=("L", "N", "P", "S", "Zs"), exclude_characters="\\"),
    max_size=20,
)
keys = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,10}", fullmatch=True)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(keys, override_values, max_size=5))
def test_cli_overrides_round_trip_through_sams_parser(overrides):
    tokens = cli_overrides(overrides)
    assert parse_overrides(tokens) == overrides
    assert parse_overrides(" ".join(tokens)) == overrides
    if overrides:
        assert sam_reads(tokens) == overrides
        assert sam_reads(" ".join(tokens)) == overrides


def test_values_sam_cannot_carry_are_refused():
    with pytest.raises(SamConfigError, match="backslashes"):
        cli_overrides({"Path": "C:\\temp"})
    with pytest.raises(SamConfigError, match="tabs and newlines"):
        cli_overrides({"Text": "a\tb"})


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(keys, override_values), min_size=1, max_size=4), st.booleans())
def test_our_parser_agrees_with_sams_on_hand_written_strings(pairs, quote_all):
    """Strings as a user might type them in samconfig.toml, quoted or not."""
    parts = []
    for key, value in pairs:
        if quote_all or " " in value or '"' in value or "'" in value or not value:
            parts.append(key + '="' + value.replace('"', '\\"') + '"')
        else:
            parts.append(f"{key}={value}")
    text = " ".join(parts)
    assert parse_overrides(text) == sam_reads(text)
