# The cacheload fleet: an Auto Scaling group of instances in the private subnets, each running
# `serve` and `export`, behind an Application Load Balancer (balancer.tf). No SSH and no public
# address: operators use SSM Session Manager. The role may put metrics into the CacheLoad namespace
# only, read its three secrets, and fetch the release tarball.

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
  description = "cacheload server: its port from the balancer only; out to Redis, the database and HTTPS"
  vpc_id      = var.vpc_id

  egress {
    description = "Redis inside the VPC"
    from_port   = 6379
    to_port     = 6379
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }

  egress {
    description = "The origin database (PostgreSQL or MySQL) inside the VPC"
    from_port   = var.db_port
    to_port     = var.db_port
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

# A rule of its own: the balancer's group names this group too, and two inline references would
# be a cycle.
resource "aws_vpc_security_group_ingress_rule" "from_balancer" {
  security_group_id            = aws_security_group.this.id
  description                  = "cacheload HTTP and health checks from the load balancer only"
  ip_protocol                  = "tcp"
  from_port                    = var.port
  to_port                      = var.port
  referenced_security_group_id = aws_security_group.balancer.id
}

locals {
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
    db_engine              = var.db_engine
    db_port                = var.db_port
    postgres_secret_arn    = var.postgres_secret_arn
    admin_token_secret_arn = aws_secretsmanager_secret.admin_token.arn
    rds_ca_bundle_s3_uri   = var.rds_ca_bundle_s3_uri == null ? "" : var.rds_ca_bundle_s3_uri
    drain_seconds          = var.drain_seconds
    stop_timeout_seconds   = var.drain_seconds + var.shutdown_grace_seconds
  })
}

# Every instance of the group is made from this template; a change of the user data (a new
# artifact URI, a new setting) is a new version, which the group rolls out by instance refresh.
resource "aws_launch_template" "this" {
  name_prefix            = "${var.name}-app-"
  description            = "cacheload serve and export (Debian 12)"
  image_id               = var.ami_id
  instance_type          = var.instance_type
  ebs_optimized          = true
  vpc_security_group_ids = [aws_security_group.this.id]
  user_data              = base64encode(local.user_data)
  update_default_version = true

  iam_instance_profile {
    arn = aws_iam_instance_profile.this.arn
  }

  monitoring {
    enabled = true
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required" # IMDSv2 only: the credential chain and the unit speak it
    http_put_response_hop_limit = 1
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_type           = "gp3"
      volume_size           = 16
      encrypted             = true
      kms_key_id            = var.kms_key_arn
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = { Name = "${var.name}-app" }
  }

  tag_specifications {
    resource_type = "volume"
    tags          = { Name = "${var.name}-app" }
  }

  depends_on = [aws_secretsmanager_secret_version.admin_token]
}

resource "aws_autoscaling_group" "this" {
  name_prefix         = "${var.name}-app-"
  vpc_zone_identifier = var.subnet_ids
  min_size            = var.min_size
  max_size            = var.max_size
  desired_capacity    = var.desired_capacity
  # The balancer's /health decides: 503 (Redis and PostgreSQL both gone, or draining) replaces
  # the instance after the grace period, which covers the first boot (apt, the release, seed).
  health_check_type         = "ELB"
  health_check_grace_period = var.health_check_grace_seconds
  target_group_arns         = [aws_lb_target_group.this.arn]
  default_instance_warmup   = var.health_check_grace_seconds
  # Metrics of the group itself (InService, Pending, …) for the dashboard.
  enabled_metrics = ["GroupDesiredCapacity", "GroupInServiceInstances", "GroupPendingInstances", "GroupTerminatingInstances"]

  launch_template {
    id      = aws_launch_template.this.id
    version = aws_launch_template.this.latest_version
  }

  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage = var.min_healthy_percentage
      instance_warmup        = var.health_check_grace_seconds
    }
  }

  tag {
    key                 = "Name"
    value               = "${var.name}-app"
    propagate_at_launch = true
  }

  lifecycle {
    precondition {
      condition     = var.min_size <= var.desired_capacity && var.desired_capacity <= var.max_size
      error_message = "app_min_size <= app_desired_capacity <= app_max_size must hold."
    }
  }
}

# Scales on what the balancer sees: requests per healthy target, a minute at a time.
resource "aws_autoscaling_policy" "requests_per_target" {
  name                      = "${var.name}-requests-per-target"
  autoscaling_group_name    = aws_autoscaling_group.this.name
  policy_type               = "TargetTrackingScaling"
  estimated_instance_warmup = var.health_check_grace_seconds

  target_tracking_configuration {
    target_value = var.requests_per_target
    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${aws_lb.this.arn_suffix}/${aws_lb_target_group.this.arn_suffix}"
    }
  }
}
