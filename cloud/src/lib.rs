//! Cloud connecting against AWS IoT: CA registration, the JITR/JITP stack, the allow-list and device certificates.
