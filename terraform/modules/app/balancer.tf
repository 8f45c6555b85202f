# The Application Load Balancer in front of the group: internal by default (the SSM port forward
# stays the labs' way in), HTTP, and HTTPS when a certificate is given (HTTP then redirects). Its
# health check is the server's /health: 200 (healthy or degraded) keeps an instance in, 503 (both
# stores gone, or draining after SIGTERM) takes it out.

data "aws_elb_service_account" "this" {}

locals {
  https = var.certificate_arn != null
}

resource "aws_security_group" "balancer" {
  name        = "${var.name}-alb"
  description = "cacheload load balancer: HTTP and HTTPS from allowed_cidrs and the load generators; out to the app port"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "balancer_cidrs" {
  for_each          = { for pair in setproduct(var.allowed_cidrs, local.https ? [80, 443] : [80]) : "${pair[0]}:${pair[1]}" => pair }
  security_group_id = aws_security_group.balancer.id
  description       = "Clients in ${each.value[0]} on port ${each.value[1]}"
  ip_protocol       = "tcp"
  from_port         = each.value[1]
  to_port           = each.value[1]
  cidr_ipv4         = each.value[0]
}

resource "aws_vpc_security_group_ingress_rule" "balancer_clients" {
  for_each                     = { for pair in setproduct(range(length(var.client_security_group_ids)), local.https ? [80, 443] : [80]) : "${pair[0]}:${pair[1]}" => pair }
  security_group_id            = aws_security_group.balancer.id
  description                  = "Load generators on port ${each.value[1]}"
  ip_protocol                  = "tcp"
  from_port                    = each.value[1]
  to_port                      = each.value[1]
  referenced_security_group_id = var.client_security_group_ids[each.value[0]]
}

resource "aws_vpc_security_group_egress_rule" "balancer_to_app" {
  security_group_id            = aws_security_group.balancer.id
  description                  = "Requests and health checks to the cacheload port"
  ip_protocol                  = "tcp"
  from_port                    = var.port
  to_port                      = var.port
  referenced_security_group_id = aws_security_group.this.id
}

resource "aws_lb" "this" {
  #checkov:skip=CKV2_AWS_28:An internal balancer for load tests and the labs; a WAF in front of it would measure the WAF. Put one in front when alb_internal = false faces the internet.
  name                       = substr("${var.name}-alb", 0, 32)
  internal                   = var.alb_internal
  load_balancer_type         = "application"
  security_groups            = [aws_security_group.balancer.id]
  subnets                    = var.alb_subnet_ids
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  # Longer than any request the server lets run (origin timeout 30 s), shorter than its idle timeout
  # would make the balancer reuse a connection the server is closing.
  idle_timeout = 60

  access_logs {
    bucket  = aws_s3_bucket.access_logs.id
    prefix  = "alb"
    enabled = true
  }

  depends_on = [aws_s3_bucket_policy.access_logs]
}

resource "aws_lb_target_group" "this" {
  #checkov:skip=CKV_AWS_378:Targets are in private subnets and reached only from the balancer's security group; TLS ends at the balancer, as the labs deploy it.
  name_prefix          = "cl-"
  port                 = var.port
  protocol             = "HTTP"
  vpc_id               = var.vpc_id
  target_type          = "instance"
  deregistration_delay = var.deregistration_delay_seconds

  health_check {
    path     = "/health"
    matcher  = "200"
    interval = var.health_check_interval_seconds
    # Below the interval (AWS refuses equal); /health answers from memory and two pings.
    timeout             = 3
    healthy_threshold   = 2
    unhealthy_threshold = var.unhealthy_threshold
  }

  lifecycle {
    create_before_destroy = true
    precondition {
      condition     = var.drain_seconds >= var.health_check_interval_seconds * var.unhealthy_threshold
      error_message = "drain_seconds must cover the health checks that take a draining instance out (interval x unhealthy_threshold)."
    }
  }
}

resource "aws_lb_listener" "http" {
  #checkov:skip=CKV_AWS_2:Plain HTTP inside the VPC when no certificate_arn is given (the labs' setting); with one, this listener only redirects to HTTPS.
  #checkov:skip=CKV_AWS_103:The HTTP listener carries no TLS; the HTTPS listener uses ELBSecurityPolicy-TLS13-1-2-2021-06.
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = local.https ? "redirect" : "forward"
    target_group_arn = local.https ? null : aws_lb_target_group.this.arn

    dynamic "redirect" {
      for_each = local.https ? [1] : []
      content {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }
}

resource "aws_lb_listener" "https" {
  count             = local.https ? 1 : 0
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this.arn
  }
}

# Access logs: ALB delivers only to buckets encrypted with S3-managed keys (SSE-KMS is refused).
resource "aws_s3_bucket" "access_logs" {
  #checkov:skip=CKV_AWS_145:The load balancer delivers access logs only to SSE-S3 buckets; SSE-KMS is not supported for them.
  #checkov:skip=CKV_AWS_18:These are the access logs; logging the log bucket would need another bucket per deployment.
  #checkov:skip=CKV_AWS_144:Access logs kept for access_log_retention_days; a replica in another region is not worth its cost.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to a new log object; they are read with Athena or downloaded when needed.
  bucket_prefix = "${var.name}-alb-logs-"
  force_destroy = true
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  bucket                  = aws_s3_bucket.access_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_versioning" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id

  rule {
    id     = "expire-logs"
    status = "Enabled"
    filter {}
    expiration {
      days = var.access_log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "access_logs" {
  # Regions opened before August 2022 deliver from the region's ELB account; the service
  # principal covers the newer ones.
  statement {
    sid       = "ElbDeliversAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.access_logs.arn}/alb/AWSLogs/*"]
    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.this.arn]
    }
  }

  statement {
    sid       = "LogDeliveryServiceWrites"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.access_logs.arn}/alb/AWSLogs/*"]
    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
    }
  }

  statement {
    sid       = "DenyPlainHTTP"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.access_logs.arn, "${aws_s3_bucket.access_logs.arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "access_logs" {
  bucket     = aws_s3_bucket.access_logs.id
  policy     = data.aws_iam_policy_document.access_logs.json
  depends_on = [aws_s3_bucket_public_access_block.access_logs]
}
