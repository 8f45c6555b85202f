# CacheLoad on AWS: a VPC, ElastiCache Redis in front of RDS PostgreSQL, the cacheload server
# (serve + export) on an Auto Scaling group behind a load balancer, optional load generators, and the hit-ratio alarm with its dashboard.
# Everything at rest is encrypted with one customer-managed key; nothing listens on the internet.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

# The release tarball is built on Debian 12 for x86_64: the instances run the same.
data "aws_ami" "debian" {
  count       = var.ami_id == null ? 1 : 0
  most_recent = true
  owners      = ["136693071363"] # Debian's official AWS account

  filter {
    name   = "name"
    values = ["debian-12-amd64-*"]
  }

  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

locals {
  name = "cacheload-${var.environment}"
  # Must equal what `cacheload export` sends: the Service and Environment dimensions.
  service = "cacheload"
  # A prepared image (packages, awscli and the SSM agent baked in) when given, else Debian 12.
  ami_id = coalesce(var.ami_id, try(data.aws_ami.debian[0].id, null))
}

resource "aws_kms_key" "cacheload" {
  description             = "${local.name}: ElastiCache, RDS, Secrets Manager, SNS, EBS and log encryption"
  deletion_window_in_days = 14
  enable_key_rotation     = true
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "cacheload" {
  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.cacheload.key_id
}

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_111:A key policy's "*" resource means this key only; the statements below are the key's own policy, not an identity policy.
  #checkov:skip=CKV_AWS_356:A key policy's "*" resource means this key only.
  #checkov:skip=CKV_AWS_109:The account root administering its own key is AWS's default key policy; without it the key becomes unmanageable.
  # The account administers the key (the AWS default key policy); services below may use it.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsEncrypt"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${data.aws_partition.current.partition}:logs:${var.region}:${data.aws_caller_identity.current.account_id}:*"]
    }
  }

  statement {
    sid       = "AlarmsPublishToEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
  }
}

module "network" {
  source             = "./modules/network"
  name               = local.name
  region             = var.region
  vpc_cidr           = var.vpc_cidr
  availability_zones = var.availability_zones
  enable_nat_gateway = var.enable_nat_gateway
  kms_key_arn        = aws_kms_key.cacheload.arn
}

module "data" {
  source               = "./modules/data"
  name                 = local.name
  vpc_id               = module.network.vpc_id
  private_subnet_ids   = module.network.private_subnet_ids
  client_sg_ids        = [module.app.security_group_id]
  kms_key_arn          = aws_kms_key.cacheload.arn
  cache_mode           = var.cache_mode
  cache_node_type      = var.cache_node_type
  cache_nodes          = var.cache_nodes
  num_node_groups      = var.num_node_groups
  replicas_per_node    = var.replicas_per_node_group
  serverless_limits    = { data_storage_gb = var.serverless_max_data_storage_gb, ecpu_per_second = var.serverless_max_ecpu_per_second }
  db_engine            = var.db_engine
  database_name        = var.db_engine == "mysql" ? "ecommerce" : "cacheload"
  db_instance_class    = var.db_instance_class
  db_allocated_storage = var.db_allocated_storage
  db_multi_az          = var.db_multi_az
  deletion_protection  = var.deletion_protection

  secret_recovery_window_days = var.secret_recovery_window_days
}

module "app" {
  source                = "./modules/app"
  name                  = local.name
  region                = var.region
  environment           = var.environment
  service               = local.service
  vpc_id                = module.network.vpc_id
  vpc_cidr              = var.vpc_cidr
  subnet_ids            = module.network.private_subnet_ids
  alb_subnet_ids        = var.alb_internal ? module.network.private_subnet_ids : module.network.public_subnet_ids
  alb_internal          = var.alb_internal
  allowed_cidrs         = length(var.allowed_cidrs) > 0 ? var.allowed_cidrs : [var.vpc_cidr]
  certificate_arn       = var.certificate_arn
  min_size              = var.app_min_size
  max_size              = var.app_max_size
  desired_capacity      = var.app_desired_capacity
  requests_per_target   = var.app_requests_per_target
  deletion_protection   = var.deletion_protection
  ami_id                = local.ami_id
  instance_type         = var.app_instance_type
  kms_key_arn           = aws_kms_key.cacheload.arn
  artifact_s3_uri       = var.cacheload_artifact_s3_uri
  cloudwatch_namespace  = var.cloudwatch_namespace
  redis_endpoint        = module.data.redis_endpoint
  redis_mode            = var.cache_mode == "replication_group" ? "standalone" : "cluster"
  redis_auth            = module.data.redis_auth_enabled
  redis_auth_secret_arn = module.data.redis_auth_secret_arn
  db_engine             = var.db_engine
  db_port               = module.data.db_port
  postgres_endpoint     = module.data.postgres_address
  postgres_database     = module.data.postgres_database
  postgres_secret_arn   = module.data.postgres_secret_arn
  # The load generators reach the balancer even when allowed_cidrs leaves the VPC out.
  client_security_group_ids = [module.loadgen.security_group_id]

  rds_ca_bundle_s3_uri        = var.rds_ca_bundle_s3_uri
  secret_recovery_window_days = var.secret_recovery_window_days
}

module "loadgen" {
  source          = "./modules/loadgen"
  name            = local.name
  region          = var.region
  vpc_id          = module.network.vpc_id
  subnet_ids      = module.network.private_subnet_ids
  instance_count  = var.loadgen_count
  ami_id          = local.ami_id
  instance_type   = var.loadgen_instance_type
  kms_key_arn     = aws_kms_key.cacheload.arn
  artifact_s3_uri = var.cacheload_artifact_s3_uri
  target_url      = module.app.url
}

module "monitoring" {
  source                   = "./modules/monitoring"
  name                     = local.name
  region                   = var.region
  environment              = var.environment
  service                  = local.service
  namespace                = var.cloudwatch_namespace
  threshold                = var.hit_ratio_threshold
  latency_p99_threshold_ms = var.latency_p99_threshold_ms
  alarm_email              = var.alarm_email
  kms_key_arn              = aws_kms_key.cacheload.arn
  replication_group_id     = module.data.redis_replication_group_id
  cache_cluster_ids        = module.data.redis_member_cluster_ids
  cache_dimension          = module.data.redis_metric_dimension
  db_instance_id           = module.data.postgres_instance_id
  balancer_arn_suffix      = module.app.balancer_arn_suffix
  target_group_arn_suffix  = module.app.target_group_arn_suffix
  min_healthy_hosts        = var.app_min_size
}
