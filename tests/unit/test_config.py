from pathlib import Path

import pytest

from podatelna.config import ConfigError, load_settings


def test_embedded_defaults_need_no_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings(environ={})
    assert s.broker.kind == "inprocess" and s.storage.kind == "filesystem"
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith(
        "var/podatelna.sqlite3"
    )


def test_file_then_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "podatelna.toml"
    cfg.write_text('[office]\ncode = "ABC"\n[limits]\nmax_files = 3\n')
    s = load_settings(
        cfg,
        environ={"PODATELNA_LIMITS__MAX_FILES": "7", "PODATELNA_TRUST__TL_SIGNERS": "a.pem, b.pem"},
    )
    assert s.office.code == "ABC" and s.limits.max_files == 7
    assert s.trust.tl_signers == ("a.pem", "b.pem")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PODATELNA_BROKR__KIND": "redis"}, "unknown setting 'brokr'"),
        ({"PODATELNA_BROKER__KIND": "kafka"}, "must be one of"),
        ({"PODATELNA_LIMITS__MAX_FILES": "many"}, "must be a whole number"),
        ({"PODATELNA_DATABASE__ECHO": "perhaps"}, "must be true or false"),
    ],
)
def test_bad_settings_are_refused_with_the_key(env: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(environ=env)


def test_unknown_key_in_file(tmp_path: Path) -> None:
    cfg = tmp_path / "x.toml"
    cfg.write_text("[storage]\nbucket = 'x'\n")
    with pytest.raises(ConfigError, match="storage.*unknown setting 'bucket'"):
        load_settings(cfg, environ={})


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_settings_are_frozen() -> None:
    s = load_settings(environ={})
    with pytest.raises(AttributeError):
        s.office.code = "X"  # type: ignore[misc]
