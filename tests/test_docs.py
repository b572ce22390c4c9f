"""The Registry docs and the examples stay honest: docs match the schemas, examples validate.

The docs are generated (``make docs``), so the test is that regenerating changes nothing. The
examples are checked with real ``terraform validate`` against the real provider schema (through
dev_overrides, so no init and no registry), and with ``terraform fmt``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from terraform_provider_connectly.framework.resource import DataSource, Provider, Resource
from terraform_provider_connectly.framework.schema import (
    Attribute,
    Block,
    NestedAttributes,
    NestedBlock,
    Schema,
)
from terraform_provider_connectly.framework.validators import OneOf
from terraform_provider_connectly.plugin import cty
from terraform_provider_connectly.resources.provider import ConnectlyProvider
from terraform_provider_connectly.tools import docs

from tfharness import Terraform, provider_dir, requires_terraform, terraform_version

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PROVIDER_TF = EXAMPLES / "provider" / "provider.tf"
PROVIDER = ConnectlyProvider()


def connectly_tf(tmp_path: Path) -> Terraform:
    return Terraform(
        tmp_path / "work", {"connectly/connectly": provider_dir(tmp_path, "connectly")}, {}
    )


# ----------------------------------------------------------------------------- docs


def test_docs_are_up_to_date() -> None:
    stale = docs.stale(ROOT / "docs", docs.render(PROVIDER, EXAMPLES))
    assert not stale, "docs/ is stale, run `make docs`: " + ", ".join(stale)
    # What `make docs` and CI run: the module, from the repository root.
    check = [sys.executable, "-m", "terraform_provider_connectly.tools.docs", "--check"]
    result = subprocess.run(check, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_render_is_deterministic() -> None:
    assert docs.render(ConnectlyProvider(), EXAMPLES) == docs.render(ConnectlyProvider(), EXAMPLES)


def test_check_lists_stale_pages_and_regenerating_fixes_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    page = tmp_path / "docs" / "resources" / "webhook.md"
    page.write_text(page.read_text().replace("## Import", "## Importing"))
    (tmp_path / "docs" / "index.md").unlink()
    (tmp_path / "docs" / "data-sources" / "gone.md").write_text("# a type no longer served\n")
    (tmp_path / "docs" / "design.md").write_text("not generated, never touched\n")
    example = tmp_path / "examples" / "data-sources" / "connectly_webhooks" / "data-source.tf"
    example.write_text(example.read_text() + "\n# a new line in an example\n")
    root = ["--root", str(tmp_path)]

    assert docs.main(["--check", *root]) == 1
    err = capsys.readouterr().err
    assert "make docs" in err
    assert "docs/resources/webhook.md (out of date)" in err
    assert "docs/index.md (missing)" in err
    assert "docs/data-sources/webhooks.md (out of date)" in err
    assert "docs/data-sources/gone.md (no such resource or data source)" in err
    assert "design.md" not in err

    assert docs.main(root) == 0
    assert docs.main(["--check", *root]) == 0
    assert not (tmp_path / "docs" / "data-sources" / "gone.md").exists()
    assert (tmp_path / "docs" / "design.md").read_text() == "not generated, never touched\n"
    assert "# a new line in an example" in (tmp_path / "docs/data-sources/webhooks.md").read_text()


def test_check_refuses_a_folder_without_examples(tmp_path: Path) -> None:
    assert docs.main(["--check", "--root", str(tmp_path)]) == 2


def _served() -> dict[str, list[str]]:
    return {
        "resources": [r.type_name for r in PROVIDER.resources()],
        "data-sources": [d.type_name for d in PROVIDER.data_sources()],
        "list-resources": [lr.type_name for lr in PROVIDER.list_resources()],
    }


def test_every_served_type_has_a_page_and_an_example() -> None:
    for folder, types in _served().items():
        example = docs.KINDS[folder][1]
        for type_name in types:
            page = ROOT / "docs" / folder / f"{docs.short_name(PROVIDER.type_name, type_name)}.md"
            assert page.is_file(), f"no {page}: run `make docs`"
            assert (EXAMPLES / folder / type_name / example).is_file(), f"add {folder}/{example}"
        # ... and no example folder for a type the provider does not serve.
        found = {p.name for p in (EXAMPLES / folder).glob("*/")}
        assert found <= set(types), (
            f"examples/{folder} for unknown types: {sorted(found - set(types))}"
        )
    for res in PROVIDER.resources():
        if type(res).import_state is not Resource.import_state:
            assert (EXAMPLES / "resources" / res.type_name / "import.sh").is_file()


def test_import_commands_name_resources_of_the_example() -> None:
    for folder in (EXAMPLES / "resources").iterdir():
        script = folder / "import.sh"
        if not script.is_file():
            continue
        example = (folder / "resource.tf").read_text()
        commands = re.findall(r"^terraform import (\S+)\.(\S+) \S+$", script.read_text(), re.M)
        assert commands, f"{script} has no terraform import command"
        for type_name, name in commands:
            assert type_name == folder.name
            assert f'resource "{type_name}" "{name}"' in example, f"{script}: no {name} in example"


def test_webhook_page_shows_what_the_schema_enforces() -> None:
    page = (ROOT / "docs/resources/webhook.md").read_text()
    assert 'page_title: "connectly_webhook Resource - terraform-provider-connectly"' in page
    for heading in (
        "## Example Usage",
        "### Required",
        "### Optional",
        "### Read-Only",
        "## Import",
    ):
        assert f"\n{heading}\n" in page
    assert '<a id="nestedatt--configuration"></a>\n### Nested Schema for `configuration`' in page
    assert "- `webengage_token` (String, Sensitive)" in page
    assert 'Defaults to `"custom"`.' in page
    assert "Must be one of `messages`, `delivery_status`, `report`." in page
    topic = next(line for line in page.splitlines() if line.startswith("- `topic`"))
    assert topic.endswith("Changing this value forces a new resource to be created.")
    assert "terraform import connectly_webhook.messages wh_" in page
    assert "### Identity Schema" in page


# ----------------------------------------------------------------------------- generic


class _Toy(Resource):
    type_name = "toy_thing"
    schema = Schema(
        Block(
            {
                "mode": Attribute(
                    cty.STRING,
                    optional=True,
                    deprecation_message="Use kind.",
                    validators=(OneOf(("a", "b")),),
                ),
                "tags": Attribute(cty.Map(cty.List(cty.NUMBER)), computed=True),
                "ports": Attribute(
                    nested=NestedAttributes("map", {"n": Attribute(cty.NUMBER, required=True)}),
                    required=True,
                ),
            },
            {
                "rule": NestedBlock(
                    "list",
                    Block({"x": Attribute(cty.BOOL, optional=True)}, description="A rule."),
                    min_items=1,
                    max_items=3,
                ),
            },
            description="A **toy** from [here](https://example.com).",
        )
    )


class _ToyProvider(Provider):
    type_name = "toy"
    schema = Schema(Block({}))

    def resources(self) -> list[Resource]:
        return [_Toy()]

    def data_sources(self) -> list[DataSource]:
        return []


def test_generator_is_generic_over_the_framework_schema(tmp_path: Path) -> None:
    pages = docs.render(_ToyProvider(), tmp_path)  # no examples at all: schema only
    assert set(pages) == {"index.md", "resources/thing.md"}
    page = pages["resources/thing.md"]
    assert "description: |-\n  A toy from here.\n---" in page
    assert "## Example Usage" not in page and "## Import" not in page
    assert "- `ports` (Attributes Map) (see [below for nested schema](#nestedatt--ports))" in page
    assert "- `rule` (Block List, Min: 1, Max: 3) A rule. (see [below" in page
    assert (
        "- `mode` (String, Deprecated) **Deprecated:** Use kind. Must be one of `a`, `b`." in page
    )
    assert "- `tags` (Map of List of Number)" in page
    assert page.index("### Required") < page.index("### Optional") < page.index("### Read-Only")
    assert '<a id="nestedblock--rule"></a>\n### Nested Schema for `rule`\n\nOptional:\n' in page


# ----------------------------------------------------------------------------- examples


def _configurations() -> list[tuple[str, list[Path]]]:
    """Each example as Terraform sees it: snippets go next to the provider example."""
    found = [("provider", [PROVIDER_TF]), ("demo", sorted((EXAMPLES / "demo").glob("*.tf")))]
    for kind in docs.KINDS:
        for folder in sorted((EXAMPLES / kind).glob("*/")):
            files = sorted([*folder.glob("*.tf"), *folder.glob("*.tfquery.hcl")])
            found.append((f"{kind}/{folder.name}", [PROVIDER_TF, *files]))
    return found


def _needs(files: list[Path]) -> tuple[int, ...] | None:
    """The Terraform an example needs: list blocks 1.14, identity import blocks 1.12."""
    if any(f.name.endswith(".tfquery.hcl") for f in files):
        return (1, 14)
    if any(re.search(r"^\s*identity\s*=", f.read_text(), re.M) for f in files):
        return (1, 12)
    return None


CONFIGURATIONS = [
    pytest.param(name, files, id=name, marks=[requires_terraform(*need)] if need else [])
    for name, files in _configurations()
    for need in [_needs(files)]
]


@pytest.mark.acceptance
@pytest.mark.parametrize(("name", "files"), CONFIGURATIONS)
def test_example_validates(tmp_path: Path, name: str, files: list[Path]) -> None:
    tf = connectly_tf(tmp_path)
    for file in files:
        shutil.copy(file, tf.workdir / file.name)
    query = ["-query"] if terraform_version() >= (1, 14) else []  # .tfquery.hcl files too
    result = tf.run("validate", *query, "-no-color")
    assert "Success!" in result.stdout, result.output


@pytest.mark.acceptance
def test_validate_catches_a_broken_example(tmp_path: Path) -> None:
    """The validate test would notice a wrong example: the provider's schema is really loaded."""
    tf = connectly_tf(tmp_path)
    shutil.copy(PROVIDER_TF, tf.workdir / "provider.tf")
    tf.write('resource "connectly_webhook" "x" {\n  topic = "messages"\n  adress = "x"\n}\n')
    result = tf.run("validate", "-no-color", check=False)
    assert result.code == 1
    assert 'An argument named "adress" is not expected here' in result.output


@pytest.mark.acceptance
def test_examples_are_formatted(tmp_path: Path) -> None:
    result = connectly_tf(tmp_path).run(
        "fmt", "-check", "-recursive", "-diff", "-no-color", str(EXAMPLES), check=False
    )
    assert result.code == 0, f"run `terraform fmt -recursive examples`:\n{result.output}"


def test_generated_sentences_read_as_sentences() -> None:
    """Validator phrases become rules without doubling ("must be each element must ..."), and a
    plan modifier's sentence shared by many attributes is written once per page."""
    page = (ROOT / "docs" / "resources" / "webhook.md").read_text()
    assert "must be each" not in page.lower() and "must be every" not in page.lower()
    assert "Every element must not be empty" in page
    assert page.count("Once known, plans show") == 1
    assert "`configuration.channel_types`" in page.split("### Required")[0]
