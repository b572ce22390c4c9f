# A webhook of the provider's business_id, by its id:
terraform import connectly_webhook.messages wh_01J9Z3K4QW8XKBR5T2V7N6M3PA

# A webhook of another business, as <business_id>/<webhook_id>:
terraform import connectly_webhook.webengage biz_456/wh_01J9Z3M8D2F5G7H9JKMNPQRSTV
