# What moto cannot take (copied into modules/app and modules/loadgen by apply-local): detailed
# monitoring (MonitorInstances is not implemented in moto; the provider would retry it forever).
# The mock-provider plans keep checking the real setting.
resource "aws_instance" "this" {
  monitoring = false
}
