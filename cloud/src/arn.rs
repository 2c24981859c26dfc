//! ARNs for one account and region, with the partition (`aws`, `aws-cn`, `aws-us-gov`, …) derived from the region.

/// The AWS partition a region belongs to.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("eu-isoe-") {
        "aws-iso-e"
    } else if region.starts_with("us-isof-") {
        "aws-iso-f"
    } else {
        "aws"
    }
}

/// Builds ARNs in one partition, region and account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arns {
    /// The partition, derived from the region.
    pub partition: &'static str,
    /// The region.
    pub region: String,
    /// The 12-digit account id.
    pub account: String,
}

impl Arns {
    /// ARNs for `account` in `region` (the partition follows from the region).
    pub fn new(region: &str, account: &str) -> Self {
        Self { partition: partition(region), region: region.to_string(), account: account.to_string() }
    }

    /// A regional ARN of `service`: `arn:<partition>:<service>:<region>:<account>:<resource>`.
    pub fn regional(&self, service: &str, resource: &str) -> String {
        format!("arn:{}:{service}:{}:{}:{resource}", self.partition, self.region, self.account)
    }

    /// An AWS IoT ARN (`cert/…`, `thing/…`, `policy/…`, `rule/…`, `cacert/…`, `client/…`, `topic/…`).
    pub fn iot(&self, resource: &str) -> String {
        self.regional("iot", resource)
    }

    /// An IAM role ARN (IAM is global: no region).
    pub fn role(&self, name: &str) -> String {
        format!("arn:{}:iam::{}:role/{name}", self.partition, self.account)
    }

    /// A DynamoDB table ARN.
    pub fn table(&self, name: &str) -> String {
        self.regional("dynamodb", &format!("table/{name}"))
    }

    /// A Lambda function ARN.
    pub fn function(&self, name: &str) -> String {
        self.regional("lambda", &format!("function:{name}"))
    }

    /// A CloudWatch Logs log group ARN.
    pub fn log_group(&self, name: &str) -> String {
        self.regional("logs", &format!("log-group:{name}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_partition_follows_the_region() {
        assert_eq!(partition("eu-central-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
        assert_eq!(Arns::new("cn-northwest-1", "123456789012").iot("cert/*"), "arn:aws-cn:iot:cn-northwest-1:123456789012:cert/*");
        assert_eq!(Arns::new("us-gov-east-1", "123456789012").role("r"), "arn:aws-us-gov:iam::123456789012:role/r");
    }
}
