//! What each Lambda function links, as cargo resolves it for that function alone (`cargo tree
//! -p`, the way `cargo lambda build` and `sam build` build one): one HTTP/TLS stack with one
//! crypto provider, and the library without its test-only part.

use std::path::Path;
use std::process::Command;

/// The function packages: every directory under `functions/`.
fn functions() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("functions/")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 9, "{names:?}");
    names
}

/// `cargo tree` for one package, one line per package or feature, no tree drawing.
fn cargo_tree(package: &str, edges: &str) -> String {
    let output = Command::new(env!("CARGO"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tree", "--offline", "--locked", "-p", package, "-e", edges])
        .args(["--prefix", "none", "--format", "{p}"])
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// What breaks "one HTTP/TLS stack, one crypto provider" in a list of `name version` lines:
/// a second hyper, rustls or http-body generation, or another TLS library or provider.
fn second_stacks(packages: &str) -> Vec<String> {
    let mut found: Vec<(&str, &str)> = packages
        .lines()
        .map(|line| line.trim_end_matches(" (*)"))
        .filter_map(|line| line.split_once(' '))
        .map(|(name, version)| (name, version.trim_start_matches('v')))
        .collect();
    found.sort();
    found.dedup();
    let mut problems = Vec::new();
    for (name, version) in &found {
        let major = |prefix: &str| version.starts_with(prefix);
        match *name {
            "hyper" if !major("1.") => problems.push(format!("hyper {version}")),
            "rustls" if !major("0.23.") => problems.push(format!("rustls {version}")),
            "hyper-rustls" if !major("0.27.") => problems.push(format!("hyper-rustls {version}")),
            "aws-lc-rs" | "aws-lc-sys" | "openssl" | "openssl-sys" | "native-tls" | "hyper-tls" => {
                problems.push(format!("{name} {version}"))
            }
            _ => {}
        }
    }
    if !found.iter().any(|(name, _)| *name == "ring") {
        problems.push("no ring".into());
    }
    problems
}

#[test]
fn every_function_links_one_http_and_tls_stack_with_ring_only() {
    for function in functions() {
        let packages = cargo_tree(&function, "normal");
        assert_eq!(
            second_stacks(&packages),
            Vec::<String>::new(),
            "{function} links a second HTTP/TLS stack or crypto provider"
        );
    }
}

#[test]
fn the_stack_check_sees_the_sdks_legacy_client() {
    // What twitter-inbound linked before the SDK sent through reqwest (its cargo tree at
    // 4c8972b, the TLS part).
    let before = "aws-lc-rs v1.19.0\naws-lc-sys v0.47.0\nhyper v0.14.32\nhyper v1.12.0\n\
                  hyper-rustls v0.24.2 (*)\nhyper-rustls v0.27.10\nring v0.17.14\n\
                  rustls v0.21.12\nrustls v0.23.46 (*)\n";
    assert_eq!(
        second_stacks(before),
        [
            "aws-lc-rs 1.19.0",
            "aws-lc-sys 0.47.0",
            "hyper 0.14.32",
            "hyper-rustls 0.24.2",
            "rustls 0.21.12"
        ]
    );
}

#[test]
fn functions_build_the_library_without_its_testing_feature() {
    // The crates with a test-only part: the store (in-memory store and queue, contracts) and
    // Discord (its signing side).
    let testing = |package: &str| {
        let features = cargo_tree(package, "normal,features");
        assert!(
            features.contains("flex-bridge-store v"),
            "{package}: {features}"
        );
        features.lines().any(|line| {
            line == r#"flex-bridge-store feature "testing""#
                || line == r#"flex-bridge-discord feature "testing""#
        })
    };
    for function in functions() {
        assert!(
            !testing(&function),
            "{function} builds the library with its test-only part"
        );
    }
    // The emulators do turn it on: the check reads what cargo resolved.
    assert!(testing("local"));
}

/// The crates' one dependency direction: core ← the platforms' API crates ← store ← bridge ←
/// Lambda glue ← functions, and the CLI on core, store and the API crates only (no Lambda
/// runtime). A crate's direct dependencies among the workspace's, as cargo resolves them.
#[test]
fn no_crate_depends_on_one_above_it() {
    let direct = |package: &str| -> Vec<String> {
        let tree = Command::new(env!("CARGO"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "tree",
                "--offline",
                "--locked",
                "-p",
                package,
                "-e",
                "normal",
            ])
            .args(["--depth", "1", "--prefix", "none", "--format", "{p}"])
            .output()
            .expect("cargo runs");
        assert!(
            tree.status.success(),
            "{}",
            String::from_utf8_lossy(&tree.stderr)
        );
        let mut names: Vec<String> = String::from_utf8(tree.stdout)
            .unwrap()
            .lines()
            .skip(1)
            .filter_map(|line| line.split(' ').next())
            .filter(|name| name.starts_with("flex-bridge") || *name == "kb")
            .map(str::to_owned)
            .collect();
        names.sort();
        names.dedup();
        names
    };
    let allowed: &[(&str, &[&str])] = &[
        ("flex-bridge-core", &[]),
        ("flex-bridge-twilio", &["flex-bridge-core"]),
        ("flex-bridge-x", &["flex-bridge-core"]),
        ("flex-bridge-discord", &["flex-bridge-core"]),
        (
            "flex-bridge-store",
            // The API crates are below the store: it keeps X's DM budget report and builds
            // transcripts from Twilio's message list.
            &[
                "flex-bridge-core",
                "flex-bridge-twilio",
                "flex-bridge-x",
                "kb",
            ],
        ),
        (
            "flex-bridge",
            &[
                "flex-bridge-core",
                "flex-bridge-discord",
                "flex-bridge-store",
                "flex-bridge-twilio",
                "flex-bridge-x",
                "kb",
            ],
        ),
        (
            "flex-bridge-lambda",
            &["flex-bridge-core", "flex-bridge-store"],
        ),
        (
            "flex-bridge-cli",
            &[
                "flex-bridge-core",
                "flex-bridge-discord",
                "flex-bridge-store",
                "flex-bridge-twilio",
                "flex-bridge-x",
                "kb",
            ],
        ),
    ];
    for (package, allowed) in allowed {
        for dependency in direct(package) {
            assert!(
                allowed.contains(&dependency.as_str()),
                "{package} depends on {dependency}, which is not below it"
            );
        }
    }
    for function in functions() {
        assert_eq!(
            direct(&function),
            ["flex-bridge", "flex-bridge-lambda"],
            "{function}"
        );
    }
    let cli = cargo_tree("flex-bridge-cli", "normal");
    for runtime in ["lambda_runtime ", "lambda_http "] {
        assert!(!cli.contains(runtime), "the CLI links {runtime}");
    }
}

#[test]
fn the_bridge_builds_without_the_aws_sdk() {
    // The handlers use the store's ports only; the DynamoDB and SQS adapters (and the SDK) come
    // with the store's `aws` feature, which the Lambda glue, the CLI and `local` turn on.
    let tree = cargo_tree("flex-bridge", "normal");
    let sdk: Vec<&str> = tree
        .lines()
        .filter(|line| line.starts_with("aws-") || line.starts_with("aws_lambda_events"))
        .collect();
    assert!(sdk.is_empty(), "flex-bridge links {sdk:?}");
    // And the check sees the SDK where it is.
    assert!(cargo_tree("flex-bridge-lambda", "normal")
        .lines()
        .any(|line| line.starts_with("aws-sdk-dynamodb")));
}
