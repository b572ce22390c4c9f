# The webhooks of the provider's business.
data "connectly_webhooks" "mine" {}

# The webhooks of another business.
data "connectly_webhooks" "other" {
  business_id = "biz_456"
}

output "webhook_addresses" {
  description = "Where each topic of the provider's business is delivered."
  value       = { for w in data.connectly_webhooks.mine.webhooks : w.topic => w.address }
}
