"""The longer diagnostics of ``connectly_webhook``: what happened, and the command that helps.

Kept apart from the CRUD so that ``resource.py`` reads as the steps of each operation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...framework.diagnostics import DiagnosticError

if TYPE_CHECKING:
    from ...connectly.models import Webhook, WebhookSpec

CBD_ADVICE = (
    "Connectly allows one webhook per topic, so the new webhook can only be created after "
    "the old one is deleted, which is Terraform's default order. With lifecycle "
    "create_before_destroy the create is refused (the topic is taken): remove "
    "create_before_destroy from this resource."
)

_ADDRESS_NOTE = (
    'ADDRESS is this resource\'s address, as the line starting with "with" in this error shows it'
)


def conflict_error(
    business_id: str, spec: WebhookSpec, existing: Webhook | None
) -> DiagnosticError:
    """A 409 on create, told apart by who holds the topic: a registration identical to this
    one (left by an interrupted apply, or the webhook being replaced under
    create_before_destroy), or a different one (someone else's)."""
    from ...connectly.models import same_registration

    topic = spec.topic
    cbd = (
        "\n\nIf Terraform is replacing this resource and its lifecycle has "
        "create_before_destroy, the holder is the webhook being replaced: remove "
        "create_before_destroy and apply again; nothing was changed."
    )
    webhook_id = existing.id if existing is not None else "<webhook id>"
    adopt = (
        f'  terraform import ADDRESS "{business_id}/{webhook_id}"\n\n'
        f"({_ADDRESS_NOTE}), or add an import block with "
        f'id = "{business_id}/{webhook_id}" and apply.'
    )
    if existing is not None and same_registration(existing, spec):
        return DiagnosticError(
            "Topic already has this webhook",
            f"Business {business_id} already has webhook {existing.id} for topic "
            f'"{topic}", with the same address and settings as this resource. It was most '
            "likely registered by an earlier apply that was interrupted before it could save "
            "the webhook in state. Adopt it into this resource (nothing is sent to "
            f"Connectly):\n\n{adopt}" + cbd,
            ("topic",),
        )
    holder = (
        "another webhook"
        if existing is None
        else f"webhook {existing.id} (address {existing.address})"
    )
    return DiagnosticError(
        "Topic already has a webhook",
        f'Business {business_id} already has {holder} for topic "{topic}", and Connectly '
        "allows one webhook per topic. If it is not managed elsewhere and you want Terraform "
        f"to manage it with this configuration, adopt it:\n\n{adopt}\n\nOtherwise choose "
        "another topic or business, or delete that webhook first." + cbd,
        ("topic",),
    )


def hidden_token_error() -> DiagnosticError:
    return DiagnosticError(
        "Webengage token would be removed",
        "This change sends webengage_configuration, which Connectly replaces as a whole, "
        "token included. Terraform does not know this webhook's token (the API never shows "
        "it; after an import state has none), so sending the new settings without one would "
        "remove a token the webhook may have. Set webengage_token, or webengage_token_wo "
        "with webengage_token_wo_version, to the token the webhook should keep.",
        ("configuration", "webengage_configuration", "webengage_token"),
    )


def gone_error(business_id: str, webhook_id: str, during: str = "") -> DiagnosticError:
    """The webhook an update was for no longer exists."""
    return DiagnosticError(
        "Webhook no longer exists",
        f"Webhook {webhook_id} in business {business_id} was deleted outside Terraform"
        f"{during}. Run terraform apply again to create it anew.",
    )


def type_assumed_detail(webhook_id: str, type_: str | None) -> str:
    return (
        f"Connectly's listing does not say the type of webhook {webhook_id}; Terraform "
        f'recorded "{type_}" as an assumption (generated configuration shows '
        "it too). Set type in the configuration to the webhook's real type: until "
        "the API reports one, a different configured type is recorded in place, "
        "never by replacing the webhook."
    )


CREATE_INTERRUPTED = (
    "Terraform was interrupted during the create; if a request had already "
    "reached Connectly the webhook may exist. If the next apply reports the topic "
    "as taken, import the webhook it names."
)
