//! The Grafana dashboard as JSON (schema version 39, Grafana 10/11): a
//! data-source variable, then the plan's panels two to a row.

use serde::Serialize;

use crate::plan::monitoring::DashboardPlan;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Dashboard {
    uid: String,
    title: String,
    tags: Vec<&'static str>,
    editable: bool,
    schema_version: u32,
    refresh: &'static str,
    time: Time,
    templating: Templating,
    panels: Vec<Panel>,
}

#[derive(Serialize)]
struct Time {
    from: &'static str,
    to: &'static str,
}

#[derive(Serialize)]
struct Templating {
    list: Vec<Variable>,
}

#[derive(Serialize)]
struct Variable {
    name: &'static str,
    label: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    query: &'static str,
}

#[derive(Serialize)]
struct DataSource {
    #[serde(rename = "type")]
    kind: &'static str,
    uid: &'static str,
}

/// The dashboard's data source: the `datasource` variable.
fn data_source() -> DataSource {
    DataSource {
        kind: "prometheus",
        uid: "${datasource}",
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Panel {
    id: usize,
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    description: &'static str,
    datasource: DataSource,
    grid_pos: GridPos,
    field_config: FieldConfig,
    targets: Vec<Target>,
}

#[derive(Serialize)]
struct GridPos {
    h: usize,
    w: usize,
    x: usize,
    y: usize,
}

#[derive(Serialize)]
struct FieldConfig {
    defaults: Defaults,
    overrides: Vec<()>,
}

#[derive(Serialize)]
struct Defaults {
    unit: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    ref_id: String,
    expr: String,
    legend_format: String,
    datasource: DataSource,
}

pub(super) fn dashboard(d: &DashboardPlan) -> Dashboard {
    const H: usize = 8;
    const W: usize = 12;
    Dashboard {
        uid: d.uid.clone(),
        title: d.title.clone(),
        tags: vec!["registry-gen", "registry"],
        editable: true,
        schema_version: 39,
        refresh: "30s",
        time: Time {
            from: "now-6h",
            to: "now",
        },
        templating: Templating {
            list: vec![Variable {
                name: "datasource",
                label: "Data source",
                kind: "datasource",
                query: "prometheus",
            }],
        },
        panels: (d.panels.iter().enumerate())
            .map(|(i, p)| Panel {
                id: i + 1,
                kind: "timeseries",
                title: p.title,
                description: p.description,
                datasource: data_source(),
                grid_pos: GridPos {
                    h: H,
                    w: W,
                    x: (i % 2) * W,
                    y: (i / 2) * H,
                },
                field_config: FieldConfig {
                    defaults: Defaults { unit: p.unit },
                    overrides: Vec::new(),
                },
                targets: (p.queries.iter().enumerate())
                    .map(|(j, q)| Target {
                        ref_id: char::from(b'A' + j as u8).to_string(),
                        expr: q.expr.clone(),
                        legend_format: q.legend.clone(),
                        datasource: data_source(),
                    })
                    .collect(),
            })
            .collect(),
    }
}
