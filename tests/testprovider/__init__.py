"""A small provider built on the plugin layer and framework alone, to prove them with real
Terraform independently of Connectly. Its "remote API" is a folder of JSON files named by the
provider's ``store`` setting."""
