//! File transfer for CometD clients, `POST /genesys/2/chat-ntf`, against the real binary:
//! each operation named by `operation` with the CometD `secureKey` (urlencoded, or multipart
//! as the GMS sample form and Widgets send it, the parts in any order), the answers in the
//! seed's shapes (the CometD key back, the deprecated ids' placeholders), and its refusals
//! and CORS.

use crate::common::*;
use crate::files_kit::*;
use serde_json::{Value, json};

const CFG: &str = "[services.customer-support]\ncors_origins = [\"https://shop.example\"]\n\
    [services.customer-support.files]\nupload_need_agent = false\n\
    upload_max_file_size = 1000\nupload_max_files = 3\nupload_max_total_size = 2500\n\
    download_attempts = 2\nupload_file_types = \"txt:jpg\"\n";

fn ntf_url(server: &Server) -> String {
    format!("{}/genesys/2/chat-ntf", server.base)
}

/// The CometD answer envelope with `key` and `extra` fields.
fn envelope(key: &str, extra: Value) -> Value {
    let mut v = json!({
        "messages": [], "chatEnded": false, "statusCode": 0, "alias": "0",
        "secureKey": key, "userId": "deprecated", "chatId": "deprecated", "monitored": false
    });
    if let (Some(m), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    v
}

#[tokio::test]
async fn every_operation_answers_in_the_seed_shapes() -> R {
    let server = Server::start(CFG).await?;
    let key = comet_chat(&server).await?;
    let (s, _, body) = ntf(
        &server,
        &[("operation", "fileGetLimits"), ("secureKey", &key)],
    )
    .await?;
    let l = json!({
        "download-attempts": "2", "upload-max-files": "3", "upload-max-file-size": "1000",
        "upload-max-total-size": "2500", "upload-need-agent": "false",
        "upload-file-types": "txt:jpg", "used-upload-max-files": "0",
        "used-upload-max-total-size": "0", "used-download-attempts": "0", "delete-file": "true"
    });
    assert_eq!(
        (s, js(&body)?),
        (
            200,
            envelope(&key, json!({"messages": [{"userData": l}], "userData": l}))
        )
    );

    // As the seed lists it: operation, secureKey, file, description, and ids GMS ignores.
    let parts = vec![
        P::F("operation", "fileUpload"),
        P::F("secureKey", &key),
        P::F("alias", "117"),
        P::F("chatId", "ignored"),
        P::File("afile.txt", TEXT.to_vec()),
        P::F("userData[file-description]", "March invoice"),
    ];
    let (s, _, body) = post_multipart(&ntf_url(&server), &[], parts).await?;
    let v = js(&body)?;
    assert_eq!(s, 200, "{v}");
    let id = file_id(&v)?;
    assert_eq!(v, envelope(&key, json!({"userData": {"file-id": id}})));

    let (s, h, body) = ntf(
        &server,
        &[
            ("operation", "fileDownload"),
            ("secureKey", &key),
            ("fileId", &id),
        ],
    )
    .await?;
    assert_eq!((s, body.as_slice()), (200, TEXT));
    assert_eq!(
        header(&h, "content-disposition"),
        "attachment; filename=\"afile.txt\"; filename*=UTF-8''afile.txt"
    );
    assert_eq!(header(&h, "x-content-type-options"), "nosniff");
    // The seed's HTML form: multipart, `operation=download`.
    let parts = vec![
        P::F("secureKey", &key),
        P::F("fileId", &id),
        P::F("operation", "download"),
    ];
    let (s, _, body) = post_multipart(&ntf_url(&server), &[], parts).await?;
    assert_eq!((s, body.as_slice()), (200, TEXT));
    let (s, _, body) = ntf(
        &server,
        &[
            ("operation", "fileDownload"),
            ("secureKey", &key),
            ("fileId", &id),
        ],
    )
    .await?;
    let (code, advice) = gms(&js(&body)?);
    assert_eq!((s, code), (400, 400), "download-attempts is 2: {advice}");

    let (s, _, body) = ntf(
        &server,
        &[
            ("operation", "fileDelete"),
            ("secureKey", &key),
            ("fileId", &id),
        ],
    )
    .await?;
    assert_eq!((s, js(&body)?), (200, envelope(&key, json!({}))));
    let (_, _, body) = ntf(
        &server,
        &[("operation", "fileGetLimits"), ("secureKey", &key)],
    )
    .await?;
    let v = js(&body)?;
    assert_eq!(
        (
            &v["userData"]["used-upload-max-files"],
            &v["userData"]["used-download-attempts"]
        ),
        (&json!("0"), &json!("2")),
        "{v}"
    );
    Ok(())
}

#[tokio::test]
async fn an_upload_may_name_its_operation_and_key_after_the_file() -> R {
    let server = Server::start(CFG).await?;
    let key = comet_chat(&server).await?;
    let parts = vec![
        P::File("late.txt", TEXT.to_vec()),
        P::F("secureKey", &key),
        P::F("operation", "fileUpload"),
    ];
    let (s, _, body) = post_multipart(&ntf_url(&server), &[], parts).await?;
    let v = js(&body)?;
    assert_eq!(s, 200, "{v}");
    let id = file_id(&v)?;
    let (s, _, body) = ntf(
        &server,
        &[
            ("operation", "fileDownload"),
            ("secureKey", &key),
            ("fileId", &id),
        ],
    )
    .await?;
    assert_eq!((s, body.as_slice()), (200, TEXT));
    // Limits over chat-ntf are the chat's: the file counts.
    let (_, _, body) = ntf(
        &server,
        &[("operation", "fileGetLimits"), ("secureKey", &key)],
    )
    .await?;
    assert_eq!(js(&body)?["userData"]["used-upload-max-files"], "1");
    Ok(())
}

#[tokio::test]
async fn bad_requests_get_gms_errors_and_cors_follows_the_service() -> R {
    let server = Server::start(CFG).await?;
    let key = comet_chat(&server).await?;
    let cases: Vec<(Vec<(&str, &str)>, u64)> = vec![
        (vec![("secureKey", &key)], 400),
        (vec![("operation", "frobnicate"), ("secureKey", &key)], 400),
        (vec![("operation", "fileGetLimits")], 400),
        (
            vec![
                ("operation", "fileGetLimits"),
                ("secureKey", "8b31761b2154884c"),
            ],
            404,
        ),
        (
            vec![("operation", "fileDownload"), ("secureKey", &key)],
            400,
        ),
        (
            vec![
                ("operation", "fileDownload"),
                ("secureKey", &key),
                ("fileId", "../x"),
            ],
            404,
        ),
        (vec![("operation", "fileUpload"), ("secureKey", &key)], 400),
    ];
    for (pairs, code) in cases {
        let (s, _, body) = ntf(&server, &pairs).await?;
        let v = js(&body)?;
        assert_eq!((s, gms(&v).0), (400, code), "{pairs:?}: {v}");
    }
    // A file sent with another operation is refused (and not kept).
    let parts = vec![
        P::F("operation", "fileGetLimits"),
        P::F("secureKey", &key),
        P::File("x.txt", TEXT.to_vec()),
    ];
    let (s, _, body) = post_multipart(&ntf_url(&server), &[], parts).await?;
    assert_eq!((s, gms(&js(&body)?).0), (400, 400));

    let url = ntf_url(&server);
    let pre = client()
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .send()
        .await?;
    assert_eq!(pre.status().as_u16(), 204);
    assert_eq!(
        header(pre.headers(), "access-control-allow-origin"),
        "https://shop.example"
    );
    let r = client()
        .post(&url)
        .header("origin", "https://shop.example")
        .form(&[("operation", "fileGetLimits"), ("secureKey", &key)])
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        header(r.headers(), "access-control-allow-origin"),
        "https://shop.example"
    );
    let r = client()
        .post(&url)
        .header("origin", "https://evil.example")
        .form(&[("operation", "fileGetLimits"), ("secureKey", &key)])
        .send()
        .await?;
    let s = r.status().as_u16();
    assert_eq!((s, gms(&r.json().await?).0), (403, 403));
    Ok(())
}
