//! File events reach a CometD customer: a chat requested over CometD (long-polling) uploads
//! and deletes a file through `/genesys/2/chat-ntf` with its CometD key, and both
//! `FileUploaded` (with the file's details in `userData`) and `FileDeleted` arrive as
//! notifications on its channel, in order.

use crate::adv_cometd::{Lp, bounded, cometd_url, events, until};
use crate::common::*;
use crate::files_kit::*;
use serde_json::json;

#[tokio::test]
async fn uploads_and_deletes_reach_the_cometd_customer_as_notifications() -> R {
    let server =
        Server::start("[services.customer-support.files]\nupload_need_agent = false\n").await?;
    let lp = Lp::start(&cometd_url(&server), Vec::new()).await?;
    let channel = "/service/chatV2/customer-support";
    let data = json!({"operation": "requestChat", "nickname": "Kim"});
    let r = bounded("publish", 10, lp.publish(channel, data)).await?;
    assert_eq!(r["successful"], true, "{r}");
    let task = lp.connect_forever();
    let note = until("the requestChat answer", 10, || lp.notes().first().cloned()).await?;
    let key = note["secureKey"].as_str().ok_or("no secureKey")?.to_owned();

    let url = format!("{}/genesys/2/chat-ntf", server.base);
    let parts = vec![
        P::F("operation", "fileUpload"),
        P::F("secureKey", &key),
        P::F("userData[file-description]", "March invoice"),
        P::File("invoice.txt", TEXT.to_vec()),
    ];
    let (s, _, body) = post_multipart(&url, &[], parts).await?;
    let answer = js(&body)?;
    assert_eq!(s, 200, "{answer}");
    let id = file_id(&answer)?;
    let kind = |k: &'static str| {
        move |notes: &[serde_json::Value]| events(notes).into_iter().find(|e| e["type"] == k)
    };
    let up = until("FileUploaded over CometD", 10, || {
        kind("FileUploaded")(&lp.notes())
    })
    .await?;
    assert_eq!(up["userData"]["file-id"], id.as_str(), "{up}");
    assert_eq!(up["userData"]["file-name"], "invoice.txt", "{up}");
    assert_eq!(up["userData"]["file-description"], "March invoice", "{up}");
    assert_eq!(up["userData"]["file-size"], TEXT.len().to_string(), "{up}");

    let (s, _, body) = ntf(
        &server,
        &[
            ("operation", "fileDelete"),
            ("secureKey", &key),
            ("fileId", &id),
        ],
    )
    .await?;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
    let gone = until("FileDeleted over CometD", 10, || {
        kind("FileDeleted")(&lp.notes())
    })
    .await?;
    assert_eq!(gone["userData"]["file-id"], id.as_str(), "{gone}");
    assert!(
        gone["index"].as_u64() > up["index"].as_u64(),
        "in order: {up} then {gone}"
    );
    task.abort();
    Ok(())
}
