# What moto cannot take (copied into modules/data by scripts/terraform/apply-local; the subnet
# group, which moto cannot delete, is dropped from the state before destroy). Moto creates
# an ElastiCache replication group but not its member cache clusters, and the provider reads them
# back, so the group is left out here and its outputs stand in. The mock-provider runs in
# terraform/tests plan it with every argument checked instead.
resource "aws_elasticache_replication_group" "this" {
  count = 0
}

output "redis_endpoint" {
  value = "replication-group.not-in-moto.local"
}

output "redis_replication_group_id" {
  value = var.name
}
