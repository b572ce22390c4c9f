# Every webhook of the provider's business.
list "connectly_webhook" "all" {
  provider = connectly
}

# The messages webhook of another business, with its full resource object: run
# `terraform query -generate-config-out=webhooks.tf` to get import blocks and configuration.
list "connectly_webhook" "messages" {
  provider         = connectly
  include_resource = true

  config {
    business_id = "biz_456"
    topic       = "messages"
  }
}
