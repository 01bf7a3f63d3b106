//! Two `serve` processes on one database; the one delivering is killed with SIGKILL in the
//! middle of its deliveries: the other takes its webhook over once the lease has run out, and
//! every event arrives at least once, in commit order, signed.

use std::time::Duration;

use serde_json::json;

use super::{LOCAL_RECEIVERS, Receiver, create_webhook};
use crate::common::{ProcessApp, poll_until};

/// The shortest lease `serve` takes: the takeover waits for it.
const LEASE: &str = "12s";
const EVENTS: usize = 30;

#[tokio::test]
async fn a_node_killed_mid_delivery_leaves_its_webhook_to_the_other() -> anyhow::Result<()> {
    let mut nodes = ProcessApp::builder()
        .with_arg(LOCAL_RECEIVERS[0])
        .with_arg(LOCAL_RECEIVERS[1])
        .with_arg("--outbox-lease")
        .with_arg(LEASE)
        .spawn_cluster(2)
        .await?;
    // Slow answers: the killed node is in the middle of a request when it dies.
    let receiver = Receiver::start(&["--delay-ms", "150"]).await?;
    let ann = nodes[0].register("ann@example.com").await?;
    let hook = create_webhook(
        &nodes[0],
        &ann.access,
        &receiver.url,
        &["task.created"],
        None,
    )
    .await?;

    // Written on the first node, which therefore starts delivering them.
    for n in 0..EVENTS {
        nodes[0]
            .create_task(&ann.access, json!({"title": format!("t{n:02}")}))
            .await?;
    }
    poll_until(Duration::from_secs(20), || async {
        let arrived = receiver.requests()?.len();
        Ok(if arrived >= 3 {
            Ok(())
        } else {
            Err(format!("{arrived} arrived"))
        })
    })
    .await?;
    nodes[0].kill().await?;
    let before_kill = receiver.requests()?.len();
    assert!(
        before_kill < EVENTS,
        "the first node sent everything before it died"
    );

    let delivered = poll_until(Duration::from_secs(60), || async {
        let delivered = receiver.delivered()?;
        let mut ids: Vec<&str> = delivered.iter().filter_map(|b| b["id"].as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        Ok(if ids.len() >= EVENTS {
            Ok(delivered.clone())
        } else {
            Err(format!("{} of {EVENTS} events arrived", ids.len()))
        })
    })
    .await?;
    // At least once: what the killed node sent after it last recorded its progress (at most
    // ten events) may come again. In order: the first arrivals follow the commit order.
    let mut firsts: Vec<String> = Vec::new();
    for body in &delivered {
        let title = body["data"]["title"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        match firsts.iter().position(|seen| *seen == title) {
            None => firsts.push(title),
            Some(at) => assert!(
                at + 12 >= firsts.len(),
                "{title} came again after later events: {firsts:?}"
            ),
        }
    }
    let expected: Vec<String> = (0..EVENTS).map(|n| format!("t{n:02}")).collect();
    assert_eq!(firsts, expected);
    let verified = receiver
        .verify(hook["secret"].as_str().unwrap_or_default())
        .await?;
    assert_eq!(verified["verified"], verified["requests"], "{verified}");
    drop(nodes);
    Ok(())
}
