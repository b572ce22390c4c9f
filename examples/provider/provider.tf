terraform {
  required_providers {
    connectly = {
      source = "connectly/connectly"
    }
  }
}

variable "connectly_api_key" {
  description = "Connectly API key. Set it with TF_VAR_connectly_api_key, never in a file."
  type        = string
  sensitive   = true
}

provider "connectly" {
  api_key     = var.connectly_api_key
  business_id = "biz_123"

  # The API address defaults to https://api.connectly.ai; point it at a local emulator with:
  # base_url = "http://127.0.0.1:8080"
}
