//! Criterion benchmarks: the full render of every example with ECDSA P-256
//! and RSA 2048, each stage alone (validate, plan, key generation, signing,
//! bcrypt, YAML, write), and a fleet of distinct configs.
//!
//! Run by hand: `cargo bench -p registry-gen --bench render` (numbers and
//! machine in docs/performance.md). Never run by the tests; nothing here
//! asserts a time.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use registry_gen::bench::{self, Stage};
use registry_gen::{render, validate, Bundle, Config, Inputs, KeyAlgorithm};
use time::OffsetDateTime;

const ALGORITHMS: [KeyAlgorithm; 2] = [KeyAlgorithm::EcdsaP256, KeyAlgorithm::Rsa2048];

fn examples() -> Vec<(String, Config)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut out: Vec<(String, Config)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).unwrap();
            (name, Config::from_yaml(&text).unwrap())
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
}

fn filled(config: &Config) -> Inputs {
    let mut inputs = Inputs::new(now());
    inputs.fill_missing(config).unwrap();
    inputs
}

fn with_alg(config: &Config, alg: KeyAlgorithm) -> Config {
    let mut c = config.clone();
    c.tls.key_algorithm = alg;
    c
}

/// What the CLI does between reading the config and writing: fresh keys,
/// passwords and salts, then validate, plan and every renderer.
fn full_render(c: &mut Criterion) {
    let mut g = c.benchmark_group("full_render");
    g.sample_size(20);
    for (name, config) in examples() {
        for alg in ALGORITHMS {
            let config = with_alg(&config, alg);
            g.bench_function(BenchmarkId::new(&name, alg.as_str()), |b| {
                b.iter(|| {
                    let inputs = filled(&config);
                    black_box(render(&config, &inputs).unwrap())
                })
            });
        }
    }
    g.finish();
}

/// The same without key generation (keys given): signing and the rest.
fn render_with_given_keys(c: &mut Criterion) {
    let mut g = c.benchmark_group("render_given_keys");
    for (name, config) in examples() {
        for alg in ALGORITHMS {
            let config = with_alg(&config, alg);
            let inputs = filled(&config);
            g.bench_function(BenchmarkId::new(&name, alg.as_str()), |b| {
                b.iter(|| black_box(render(&config, &inputs).unwrap()))
            });
        }
    }
    g.finish();
}

fn stages(c: &mut Criterion) {
    let examples = examples();
    let mut g = c.benchmark_group("stage");
    for (name, config) in &examples {
        g.bench_function(BenchmarkId::new("validate", name), |b| {
            b.iter(|| validate(black_box(config)).unwrap())
        });
        g.bench_function(BenchmarkId::new("plan", name), |b| {
            b.iter(|| black_box(bench::plan(black_box(config)).unwrap()))
        });
    }
    for alg in ALGORITHMS {
        g.bench_function(BenchmarkId::new("keygen", alg.as_str()), |b| {
            b.iter(|| black_box(bench::generate_key(alg).unwrap()))
        });
    }
    // Signing: parse the two keys, sign the CA, the server certificate and
    // the CSR (the certs renderer).
    let (_, nodeport) = examples
        .iter()
        .find(|(n, _)| n == "nodeport-htpasswd")
        .unwrap()
        .clone();
    for alg in ALGORITHMS {
        let config = with_alg(&nodeport, alg);
        let inputs = filled(&config);
        let planned = bench::plan(&config).unwrap();
        g.bench_function(BenchmarkId::new("sign", alg.as_str()), |b| {
            b.iter(|| {
                let mut out = Bundle::default();
                bench::stage(&planned, &inputs, Stage::Certs, &mut out).unwrap();
                black_box(out)
            })
        });
    }
    for (name, config) in &examples {
        let inputs = filled(config);
        let planned = bench::plan(config).unwrap();
        // Manifests need the certificate and auth files they embed.
        let mut before = Bundle::default();
        for s in [Stage::Certs, Stage::Auth, Stage::Trust] {
            bench::stage(&planned, &inputs, s, &mut before).unwrap();
        }
        g.bench_function(BenchmarkId::new("manifests_yaml", name), |b| {
            b.iter_batched(
                || before.clone(),
                |mut out| {
                    bench::stage(&planned, &inputs, Stage::Manifests, &mut out).unwrap();
                    out
                },
                BatchSize::SmallInput,
            )
        });
        for (label, s) in [
            ("scripts", Stage::Scripts),
            ("docs", Stage::Docs),
            ("trust", Stage::Trust),
        ] {
            g.bench_function(BenchmarkId::new(label, name), |b| {
                b.iter_batched(
                    || before.clone(),
                    |mut out| {
                        bench::stage(&planned, &inputs, s, &mut out).unwrap();
                        out
                    },
                    BatchSize::SmallInput,
                )
            });
        }
        let bundle = render(config, &inputs).unwrap();
        g.bench_function(BenchmarkId::new("write_to_tempdir", name), |b| {
            b.iter_batched(
                || tempfile::tempdir().unwrap(),
                |dir| {
                    bundle.write_to(&dir.path().join("out")).unwrap();
                    dir
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

/// bcrypt cost: what a render pays per user, and what the registry pays
/// per authenticated request (it verifies at the same cost).
fn bcrypt_cost(c: &mut Criterion) {
    let mut g = c.benchmark_group("bcrypt_cost");
    g.sample_size(10);
    let config = examples()
        .into_iter()
        .find(|(n, _)| n == "nodeport-htpasswd")
        .unwrap()
        .1;
    for cost in [4, 5, 6, 8, 10, 12] {
        let mut config = config.clone();
        config.auth.as_mut().unwrap().bcrypt_cost = cost;
        let inputs = filled(&config);
        let planned = bench::plan(&config).unwrap();
        g.bench_function(BenchmarkId::from_parameter(cost), |b| {
            b.iter(|| {
                let mut out = Bundle::default();
                bench::stage(&planned, &inputs, Stage::Auth, &mut out).unwrap();
                black_box(out)
            })
        });
    }
    g.finish();
}

/// A fleet: N distinct configs (name, namespace, addresses), each with its
/// own keys, rendered one after the other, as CI would for many clusters.
/// Linear scaling shows as a constant time per config.
fn fleet(c: &mut Criterion) {
    let mut g = c.benchmark_group("fleet");
    g.sample_size(10);
    for n in [10u32, 100, 1000] {
        let configs: Vec<Config> = (0..n)
            .map(|i| {
                let mut c = Config::embedded_default();
                c.name = format!("registry-{i}");
                c.namespace = format!("team-{i}");
                c.addresses.node_ips =
                    vec![format!("10.{}.{}.1", i / 250, i % 250).parse().unwrap()];
                c.addresses.dns_names = vec![format!("registry-{i}.example.test")];
                // The fleet measures rendering; bcrypt has its own group.
                c.auth.as_mut().unwrap().bcrypt_cost = 4;
                c
            })
            .collect();
        g.throughput(criterion::Throughput::Elements(u64::from(n)));
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                for config in &configs {
                    let inputs = filled(config);
                    black_box(render(config, &inputs).unwrap());
                }
            })
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    full_render,
    render_with_given_keys,
    stages,
    bcrypt_cost,
    fleet
);
criterion_main!(benches);
