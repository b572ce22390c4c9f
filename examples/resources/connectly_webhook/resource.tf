# The smallest webhook: the provider's business, type "custom" and the server's default
# delivery settings.
resource "connectly_webhook" "messages" {
  topic   = "messages"
  address = "https://example.com/hooks/messages"
}

# Delivery settings: echo the business's own messages, WhatsApp and SMS only, and only
# events of production campaigns. Create may take up to ten minutes, retries included.
resource "connectly_webhook" "delivery_status" {
  topic   = "delivery_status"
  address = "https://example.com/hooks/delivery-status"

  configuration = {
    echo          = true
    channel_types = ["whatsapp", "sms"]
    filters = [
      { field = "campaign_name", expression = "prod-*" },
    ]
  }

  timeouts = {
    create = "10m"
  }
}

variable "webengage_token" {
  description = "Webengage token. The API never shows it back, so keep it in a secret store."
  type        = string
  sensitive   = true
}

# A Webengage integration for another business than the provider's.
resource "connectly_webhook" "webengage" {
  business_id = "biz_456"
  topic       = "messages"
  address     = "https://example.com/hooks/webengage"
  type        = "webengage"

  configuration = {
    webengage_configuration = {
      webengage_token       = var.webengage_token
      webengage_webhook_url = "https://webengage.example/hooks/connectly"
    }
  }
}
