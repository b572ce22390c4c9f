# The root module `make demo` applies against a local Connectly emulator. The demo sets
# TF_VAR_api_key and TF_VAR_base_url to the emulator's key and address.
terraform {
  required_providers {
    connectly = {
      source = "connectly/connectly"
    }
  }
}

variable "api_key" {
  description = "Connectly API key (the emulator's)."
  type        = string
  sensitive   = true
}

variable "base_url" {
  description = "Connectly API address (the emulator's)."
  type        = string
}

provider "connectly" {
  api_key     = var.api_key
  base_url    = var.base_url
  business_id = "biz_demo"
}

resource "connectly_webhook" "messages" {
  topic   = "messages"
  address = "https://example.com/hooks/messages"
}

resource "connectly_webhook" "delivery_status" {
  topic   = "delivery_status"
  address = "https://example.com/hooks/delivery-status"

  configuration = {
    echo          = true
    channel_types = ["whatsapp", "sms"]
    filters = [
      { field = "campaign_name", expression = "demo-*" },
    ]
  }
}

resource "connectly_webhook" "report" {
  business_id = "biz_demo_reports"
  topic       = "report"
  address     = "https://example.com/hooks/report"
}

data "connectly_webhooks" "demo" {
  depends_on = [connectly_webhook.messages, connectly_webhook.delivery_status]
}

output "webhook_ids" {
  description = "The ids Connectly assigned, by resource."
  value = {
    messages        = connectly_webhook.messages.id
    delivery_status = connectly_webhook.delivery_status.id
    report          = connectly_webhook.report.id
  }
}

output "biz_demo_webhook_count" {
  description = "How many webhooks business biz_demo has, as the data source lists them."
  value       = length(data.connectly_webhooks.demo.webhooks)
}
