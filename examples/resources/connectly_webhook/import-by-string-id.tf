import {
  to = connectly_webhook.messages
  id = "wh_01J9Z3K4QW8XKBR5T2V7N6M3PA" # or "biz_123/wh_01J9Z3K4QW8XKBR5T2V7N6M3PA"
}
