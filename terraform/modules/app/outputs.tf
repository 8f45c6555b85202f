output "url" {
  description = "The balancer's URL (https:// when a certificate is given)."
  value       = "${local.https ? "https" : "http"}://${aws_lb.this.dns_name}"
}

output "balancer_dns_name" {
  description = "DNS name of the load balancer."
  value       = aws_lb.this.dns_name
}

output "balancer_arn_suffix" {
  description = "The balancer's LoadBalancer dimension in AWS/ApplicationELB."
  value       = aws_lb.this.arn_suffix
}

output "target_group_arn_suffix" {
  description = "The target group's TargetGroup dimension in AWS/ApplicationELB."
  value       = aws_lb_target_group.this.arn_suffix
}

output "autoscaling_group_name" {
  description = "The Auto Scaling group of the servers."
  value       = aws_autoscaling_group.this.name
}

output "launch_template_id" {
  description = "The launch template of the servers."
  value       = aws_launch_template.this.id
}

output "port" {
  description = "Port of cacheload serve on each instance."
  value       = var.port
}

output "security_group_id" {
  description = "Security group of the servers (allowed into Redis and PostgreSQL)."
  value       = aws_security_group.this.id
}

output "balancer_security_group_id" {
  description = "Security group of the load balancer."
  value       = aws_security_group.balancer.id
}

output "admin_token_secret_arn" {
  description = "Secret holding the admin bearer token."
  value       = aws_secretsmanager_secret.admin_token.arn
}
