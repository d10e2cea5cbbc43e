//! One visitor of the api over plain HTTP, as a browser without JavaScript would be: its
//! own cookie jar (so its own session) and the CSRF token of its last sign-in, with the
//! steps owners take through the JSON api (sign up, connect LinkedIn, launch, approve).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::cookie::{CookieStore, Jar};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

use crate::PASSWORD;

/// One visitor over plain HTTP, as a browser without JavaScript would be (the real
/// Chromium is `crate::browser::Browser`): its own cookie jar (so its own session), and the
/// CSRF token its last sign-up or sign-in returned, sent on every write unless the test
/// says otherwise.
pub struct Visitor {
    pub http: reqwest::Client,
    /// The cookie jar, so a test can copy a session cookie elsewhere.
    pub cookies: Arc<Jar>,
    address: String,
    csrf: Mutex<Option<String>>,
}

impl Visitor {
    pub fn new(address: &str) -> Self {
        let cookies = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(cookies.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Self {
            http,
            cookies,
            address: address.to_owned(),
            csrf: Mutex::new(None),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// The `Cookie` header this browser sends to the api (its session cookie), if any.
    pub fn cookie_header(&self) -> Option<String> {
        let url = self.address.parse().unwrap();
        self.cookies
            .cookies(&url)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    /// The token the last sign-up or sign-in returned.
    pub fn csrf(&self) -> String {
        self.csrf.lock().unwrap().clone().unwrap_or_default()
    }

    /// A request without the CSRF header, for tests about it.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, self.url(path))
    }

    fn write(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self.request(method, path);
        match self.csrf.lock().unwrap().as_deref() {
            Some(token) => request.header("x-csrf-token", token),
            None => request,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path).send().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.write(Method::POST, path)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// A POST without a body (launch, approve, ...).
    pub async fn post(&self, path: &str) -> Response {
        self.write(Method::POST, path).send().await.unwrap()
    }

    pub async fn put_json(&self, path: &str, body: &Value) -> Response {
        self.write(Method::PUT, path)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Signs up with [`PASSWORD`], then signs in (sign-up opens no session, so that its
    /// answer is the same whether the e-mail was taken); returns the CSRF token (also kept
    /// for later writes).
    pub async fn sign_up(&self, email: &str) -> String {
        let response = self
            .post_json(
                "/api/auth/sign-up",
                &json!({ "email": email, "password": PASSWORD, "name": "Ana" }),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::ACCEPTED,
            "sign-up of {email}"
        );
        self.sign_in_as(email).await
    }

    /// Signs in; the answer as it came (for tests of failures and throttling).
    pub async fn sign_in(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/api/auth/sign-in",
            &json!({ "email": email, "password": password }),
        )
        .await
    }

    /// Signs in with [`PASSWORD`]; returns the CSRF token (also kept for later writes).
    pub async fn sign_in_as(&self, email: &str) -> String {
        let response = self.sign_in(email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK, "sign-in of {email}");
        self.keep_token(response).await
    }

    async fn keep_token(&self, response: Response) -> String {
        let body: Value = response.json().await.unwrap();
        let token = body["csrf_token"].as_str().unwrap().to_owned();
        *self.csrf.lock().unwrap() = Some(token.clone());
        token
    }

    /// A draft campaign; returns its id.
    pub async fn create_campaign(&self, name: &str) -> i64 {
        let response = self
            .post_json(
                "/api/campaigns",
                &json!({ "name": name, "industry": "bakery", "location": "Lyon" }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        body["id"].as_i64().unwrap()
    }

    /// A JSON call as the dashboard's scripts make it: the status and the body (JSON, or the
    /// text as a JSON string when it is not JSON).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.write(method, path);
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A JSON call that must succeed; its body.
    pub async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, body) = self.call(method.clone(), path, body).await;
        assert!(status.is_success(), "{method} {path}: {status} {body}");
        body
    }

    /// GETs `url` (absolute, or a path of the app) and follows its redirects as a browser
    /// does, through other hosts too (the sandbox's OAuth pages); the last answer.
    pub async fn follow(&self, url: &str) -> Response {
        let mut url = url::Url::parse(&self.address).unwrap().join(url).unwrap();
        for _ in 0..10 {
            let response = self.http.get(url.clone()).send().await.unwrap();
            if !response.status().is_redirection() {
                return response;
            }
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            url = url.join(&location).unwrap();
        }
        panic!("more than 10 redirects from {url}");
    }

    /// Sets the owner's publishing schedule.
    pub async fn set_schedule(&self, schedule: &Value) -> Value {
        self.ok(Method::PUT, "/api/profile/schedule", Some(schedule.clone()))
            .await
    }

    /// Publishes as soon as a post is approved, every day: for tests that follow each post
    /// from approval to LinkedIn (the schedule's own tests set slots).
    pub async fn publish_immediately(&self) {
        self.set_schedule(&json!({
            "time_zone": "Europe/Paris", "days": [1, 2, 3, 4, 5, 6, 7],
            "times": ["09:00"], "per_day": 100, "immediate": true,
        }))
        .await;
    }

    /// Through the sandbox's OAuth (consent given at once with `auto=allow`), as a browser
    /// would: the api's callback then stores the sealed grant.
    pub async fn connect_linkedin(&self, member: &str) {
        let body = self
            .ok(Method::POST, "/api/profile/linkedin/connect", None)
            .await;
        let url = format!(
            "{}&auto=allow&member={member}",
            body["authorize_url"].as_str().unwrap()
        );
        // The browser ends on the profile page; what matters is what the callback stored.
        self.follow(&url).await;
        let profile = self.ok(Method::GET, "/api/profile", None).await;
        assert_eq!(profile["linkedin"]["connected"], true, "{profile}");
    }

    /// Creates and launches a campaign; returns its id.
    pub async fn launch(&self, name: &str, industry: &str, location: &str) -> i64 {
        let c = self
            .ok(
                Method::POST,
                "/api/campaigns",
                Some(json!({"name": name, "industry": industry, "location": location})),
            )
            .await;
        let id = c["id"].as_i64().unwrap();
        self.ok(Method::POST, &format!("/api/campaigns/{id}/launch"), None)
            .await;
        id
    }

    /// A campaign as `GET /api/campaigns/{id}` answers it.
    pub async fn campaign(&self, id: i64) -> Value {
        self.ok(Method::GET, &format!("/api/campaigns/{id}"), None)
            .await
    }

    /// A dashboard page in `lang` (the account's language is switched first, as the
    /// language menu does), as HTML.
    pub async fn page_in(&self, lang: &str, path: &str) -> String {
        let page = self.follow(&format!("/language/{lang}?next={path}")).await;
        assert!(
            page.status().is_success(),
            "{lang} {path}: {}",
            page.status()
        );
        page.text().await.unwrap()
    }

    /// Approves every pending content of the owner; returns how many.
    pub async fn approve_pending(&self) -> usize {
        let pending = self
            .ok(
                Method::GET,
                "/api/contents?status=pending&per_page=100",
                None,
            )
            .await;
        let items = pending["items"].as_array().cloned().unwrap_or_default();
        for c in &items {
            let id = c["id"].as_i64().unwrap();
            self.ok(Method::POST, &format!("/api/contents/{id}/approve"), None)
                .await;
        }
        items.len()
    }
}

/// The whole seconds a 429 asks the client to wait.
pub fn retry_after(response: &Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// The `error.code` of an error answer.
pub async fn error_code(response: Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error body: {body}"))
        .to_owned()
}
