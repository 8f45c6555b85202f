# The cacheload server: one EC2 instance in a private subnet running `serve` and `export`. No SSH
# and no public address: operators use SSM Session Manager. Its role may put metrics into the
# CacheLoad namespace only, read its three secrets, and fetch the release tarball.

data "aws_partition" "current" {}

locals {
  artifact_bucket = split("/", trimprefix(var.artifact_s3_uri, "s3://"))[0]
  artifact_key    = join("/", slice(split("/", trimprefix(var.artifact_s3_uri, "s3://")), 1, length(split("/", trimprefix(var.artifact_s3_uri, "s3://")))))
  # s3://bucket/key → arn:…:s3:::bucket/key, for the objects the instance may read.
  readable_objects = [for uri in compact([var.artifact_s3_uri, var.rds_ca_bundle_s3_uri]) :
  "arn:${data.aws_partition.current.partition}:s3:::${trimprefix(uri, "s3://")}"]
}

# Generated once by Secrets Manager (no other provider needed); kept afterwards.
data "aws_secretsmanager_random_password" "admin_token" {
  password_length     = 40
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "admin_token" {
  #checkov:skip=CKV2_AWS_57:The admin token is a bearer token of this deployment only; rotate with `terraform apply -replace=module.app.aws_secretsmanager_secret_version.admin_token` (the server reads it at start).
  # A prefix, not a name: a secret scheduled for deletion keeps its name for the recovery window,
  # and a fixed name would make `apply` after `destroy` fail until the window ends.
  name_prefix             = "${var.name}/admin-token-"
  description             = "Bearer token of the cacheload admin routes (/admin/warm, PUT and DELETE)"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
}

resource "aws_secretsmanager_secret_version" "admin_token" {
  secret_id     = aws_secretsmanager_secret.admin_token.id
  secret_string = data.aws_secretsmanager_random_password.admin_token.random_password

  # The generator answers anew on every plan; the stored token stays until replaced on purpose.
  lifecycle {
    ignore_changes = [secret_string]
  }
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-app"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy_attachment" "ssm" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

data "aws_iam_policy_document" "app" {
  # PutMetricData has no resource-level permissions: the namespace condition is what limits it.
  statement {
    sid       = "PutMetricDataToOwnNamespaceOnly"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.cloudwatch_namespace]
    }
  }

  statement {
    sid       = "ReadOwnSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.redis_auth_secret_arn, var.postgres_secret_arn, aws_secretsmanager_secret.admin_token.arn]
  }

  statement {
    sid       = "DecryptSecretsThroughSecretsManager"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${var.region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "FetchRelease"
    actions   = ["s3:GetObject"]
    resources = local.readable_objects
  }
}

resource "aws_iam_role_policy" "app" {
  name   = "cacheload-app"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.app.json
}

resource "aws_iam_instance_profile" "this" {
  name = "${var.name}-app"
  role = aws_iam_role.this.name
}

resource "aws_security_group" "this" {
  name        = "${var.name}-app"
  description = "cacheload server: its port from inside the VPC; out to Redis, PostgreSQL and HTTPS"
  vpc_id      = var.vpc_id

  ingress {
    description = "cacheload HTTP from inside the VPC (load generators)"
    from_port   = var.port
    to_port     = var.port
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }

  egress {
    description = "Redis and PostgreSQL inside the VPC"
    from_port   = 5432
    to_port     = 6379
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }

  egress {
    description = "HTTPS: AWS endpoints, the SSM agent and the RDS CA bundle"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  egress {
    description = "HTTP: Debian package mirrors (apt verifies signatures)"
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_instance" "this" {
  ami                    = var.ami_id
  instance_type          = var.instance_type
  subnet_id              = var.subnet_id
  vpc_security_group_ids = [aws_security_group.this.id]
  iam_instance_profile   = aws_iam_instance_profile.this.name
  ebs_optimized          = true
  monitoring             = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required" # IMDSv2 only: the credential chain speaks it
    http_put_response_hop_limit = 1
  }

  root_block_device {
    volume_type = "gp3"
    volume_size = 16
    encrypted   = true
    kms_key_id  = var.kms_key_arn
  }

  user_data = templatefile("${path.module}/user_data.sh.tftpl", {
    install_script         = templatefile("${path.module}/../../templates/install-cacheload.sh.tftpl", { region = var.region, artifact_s3_uri = var.artifact_s3_uri })
    region                 = var.region
    port                   = var.port
    namespace              = var.cloudwatch_namespace
    service                = var.service
    environment            = var.environment
    redis_endpoint         = var.redis_endpoint
    redis_mode             = var.redis_mode
    redis_auth             = var.redis_auth
    redis_auth_secret_arn  = var.redis_auth_secret_arn
    postgres_endpoint      = var.postgres_endpoint
    postgres_database      = var.postgres_database
    postgres_secret_arn    = var.postgres_secret_arn
    admin_token_secret_arn = aws_secretsmanager_secret.admin_token.arn
    rds_ca_bundle_s3_uri   = var.rds_ca_bundle_s3_uri == null ? "" : var.rds_ca_bundle_s3_uri
  })
  user_data_replace_on_change = true

  tags = { Name = "${var.name}-app" }

  depends_on = [aws_secretsmanager_secret_version.admin_token]
}
