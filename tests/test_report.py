"""`aelab report`: one self-contained HTML page for runs, checked in a real browser.

The browser test needs Debian's ``chromium`` (``.ci/run`` installs it when missing) and is
skipped with the reason where it is not there.
"""

import re
import shutil
import subprocess

import pytest

from aelab.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    for name, extra in (("ae", []), ("vae", ["--likelihood", "bernoulli"])):
        assert main(["train", "--model", name, *extra, "--data", "digits", "--latent-dim", "4",
                     "--hidden", "16", "--epochs", "2", "--out", str(tmp / name)]) == 0
    out = tmp / "report.html"
    assert main(["report", str(tmp / "ae"), str(tmp / "vae"), "--out", str(out),
                 "--title", "two runs"]) == 0
    return out


def test_the_page_holds_everything_itself(page):
    text = page.read_text()
    assert "<h1>two runs</h1>" in text and "<h2>comparison</h2>" in text
    assert "<h2>ae: ae</h2>" in text and "<h2>vae: vae</h2>" in text
    # per run: loss curves drawn from the history, and the reconstructions of image data
    assert text.count("<img ") == 4 and text.count("data:image/png;base64,") == 4
    assert not re.search(r"(src|href)=['\"](https?:|//)", text), "nothing is fetched at view time"
    assert "latent_dim" in text and "sq_error_per_example" in text


def test_a_damaged_run_directory_is_a_clear_error(tmp_path):
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "r.html")]) == 2
    assert not (tmp_path / "r.html").exists()


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install -y chromium; "
                                             ".ci/run installs it)")
def test_in_headless_chromium(page, tmp_path):
    flags = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    done = subprocess.run([*flags, "--enable-logging=stderr", "--v=0",
                           "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, f"console messages: {console}"
    loaded = re.search(r'data-images="(\d+)/(\d+)"', done.stdout)
    assert loaded and loaded.group(1) == loaded.group(2) == "4", "every image loads"
    for heading in ("comparison", "ae: ae", "vae: vae"):
        assert f"<h2>{heading}</h2>" in done.stdout
    shot = tmp_path / "report.png"
    subprocess.run([*flags, "--window-size=1200,2400", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.is_file() and shot.stat().st_size > 20_000  # a rendered page, not a blank one
