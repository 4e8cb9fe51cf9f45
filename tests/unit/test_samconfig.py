"""samconfig.toml editing: the endpoint name goes in, everything else stays exactly as the user wrote it.

SAM's own parser (samcli.cli.types.CfnParameterOverridesType) reads back what we write, so "SAM accepts it" is
checked by SAM, not assumed.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    """What `sam deploy` itself makes of a parameter_overrides value from samconfig.toml.

    aws-sam-cli is a dev tool, absent from make test's lean Python 3.10 venv: only these comparisons skip there.
    """
    types = pytest.importorskip("samcli.cli.types", reason="aws-sam-cli (the dev extra) is not installed")
    return dict(types.CfnParameterOverridesType().convert(value if isinstance(value, list) else (value,), None, None))


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
def test_cli_overrides_round_trip_through_our_parser(overrides):
    tokens = cli_overrides(overrides)
    assert parse_overrides(tokens) == overrides
    assert parse_overrides(" ".join(tokens)) == overrides


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(keys, override_values, min_size=1, max_size=5))
def test_cli_overrides_round_trip_through_sams_parser(overrides):
    tokens = cli_overrides(overrides)
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


# Inputs where a hand-written parser is likely to differ from SAM CLI's. "sam" is what SAM CLI's own parser returns
# (the test asks it, so this column is checked, not copied); ours must equal it, whichever source the text came from.
TRICKY = [
    # (samconfig value or CLI string, what SAM reads)
    ("A=1 B=2", {"A": "1", "B": "2"}),
    ("ParameterKey=A,ParameterValue=1 ParameterKey=B,ParameterValue=2", {"A": "1", "B": "2"}),
    # Mixed forms: once the long form appears, SAM ignores the short pairs (the local gateway used to keep A).
    ("A=1 ParameterKey=B,ParameterValue=2", {"B": "2"}),
    ("ParameterKey=B,ParameterValue=2 A=1", {"B": "2"}),
    # Doubled single quotes end the value at the first closing quote (the local gateway used to read `its`).
    ("A='it''s'", {"A": "it"}),
    ('A="say ""hi"""', {"A": "say "}),
    ("A=\"two words\" B='single quoted'", {"A": "two words", "B": "single quoted"}),
    ('A="with \\"escaped\\" quotes"', {"A": 'with "escaped" quotes'}),
    ("A=with\\ space", {"A": "with space"}),
    ('A="" B=2', {"A": "", "B": "2"}),
    ("A= B=2", {"B": "2"}),
    ("A=x=y", {"A": "x=y"}),
    ("ParameterKey=C,ParameterValue=x=y", {"C": "x=y"}),
    ('ParameterKey=C,ParameterValue="a b"', {"C": "a b"}),
    ("  A=1    B=2  ", {"A": "1", "B": "2"}),
    ("A=1 A=2", {"A": "2"}),
    ("A=1 stray B=2", {"A": "1", "B": "2"}),
    (["A=1", 'B="two words"', "ParameterKey=C,ParameterValue=3"], {"A": "1", "B": "two words", "C": "3"}),
    (["A=1 ParameterKey=B,ParameterValue=2", "C=3"], {"B": "2", "C": "3"}),
    ("", {}),
]


@pytest.mark.parametrize(("value", "expected"), TRICKY, ids=[repr(v) for v, _ in TRICKY])
def test_tricky_overrides_read_as_sam_reads_them(value, expected):
    assert sam_reads(value) == expected
    assert parse_overrides(value) == expected


@pytest.mark.parametrize("value", ["oops", "=1", ["A=1", "oops"], ["A=1", ""]])
def test_what_sam_refuses_is_refused(value):
    with pytest.raises(Exception, match="not a valid format"):
        sam_reads(value)
    with pytest.raises(SamConfigError, match="is not Key=Value"):
        parse_overrides(value)


def test_the_local_gateway_and_the_deploy_read_one_samconfig_alike(tmp_path):
    """The two disagreements this parser fixed, end to end: both readers of samconfig.toml get SAM's values."""
    from mysfits.local.gateway.parameters import samconfig_overrides

    path = tmp_path / "samconfig.toml"
    path.write_text(
        "version = 0.1\n[default.deploy.parameters]\n"
        "parameter_overrides = [\"A=1 ParameterKey=B,ParameterValue=2\", \"C='it''s'\"]\n"
    )
    assert samconfig_overrides(path) == read_overrides(path) == {"B": "2", "C": "it"}
