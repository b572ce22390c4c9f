import {
  to = connectly_webhook.webengage
  identity = {
    business_id = "biz_456" # optional: defaults to the provider's business_id
    id          = "wh_01J9Z3M8D2F5G7H9JKMNPQRSTV"
  }
}
