//! Google Places Text Search (New), docs/providers.md, "1. Google Places": one query paged through
//! `nextPageToken` up to Google's 60-result cap, mapped to the fields a lead keeps.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::ProviderError;
use super::http::{self, Effect};
use crate::config::GoogleConfig;

/// Every field the pipeline reads, plus `nextPageToken` (without it paging silently stops).
pub const FIELD_MASK: &str = "places.id,places.displayName,places.formattedAddress,places.addressComponents,places.nationalPhoneNumber,places.internationalPhoneNumber,places.websiteUri,places.rating,places.userRatingCount,places.location,nextPageToken";

/// Google returns at most this many results for one query, over all pages.
pub const MAX_RESULTS: usize = 60;

/// What to search for; the same value is sent on every page, as Google requires.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaceQuery {
    /// e.g. "dentists in Guelph, Ontario".
    pub text_query: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub included_type: Option<String>,
}

/// One business, in the shape of our leads. Any field but the id and name may be missing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Place {
    pub place_id: String,
    pub business_name: String,
    pub address: Option<String>,
    pub city: Option<String>,
    /// `administrative_area_level_1`, short form ("ON").
    pub province: Option<String>,
    pub postal_code: Option<String>,
    /// ISO code ("CA").
    pub country: Option<String>,
    /// National format when present, else international.
    pub phone: Option<String>,
    pub international_phone: Option<String>,
    pub website: Option<String>,
    pub rating: Option<f64>,
    pub review_count: Option<i32>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

pub struct PlacesClient {
    http: reqwest::Client,
    url: String,
    api_key: String,
}

impl std::fmt::Debug for PlacesClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlacesClient")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl PlacesClient {
    pub fn from_config(config: &GoogleConfig) -> Result<Self, ProviderError> {
        let api_key = http::google_key(config, "places")?;
        Ok(Self {
            http: http::client(Duration::from_millis(config.places_timeout_ms))?,
            url: format!(
                "{}/v1/places:searchText",
                config.places_base_url.trim_end_matches('/')
            ),
            api_key,
        })
    }

    /// Up to `limit` (at most 60) places, following `nextPageToken` with identical
    /// parameters. No match is an empty list, not an error.
    #[tracing::instrument(skip_all, fields(route = "places.search", limit = limit))]
    pub async fn search(
        &self,
        query: &PlaceQuery,
        limit: usize,
    ) -> Result<Vec<Place>, ProviderError> {
        let limit = limit.min(MAX_RESULTS);
        let mut places = Vec::new();
        let mut token: Option<String> = None;
        while places.len() < limit {
            let page = self.page(query, token.as_deref()).await?;
            places.extend(page.places);
            match page.next_page_token {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => break,
            }
        }
        places.truncate(limit);
        Ok(places)
    }

    /// One page of 20: the places and the token of the next page, if any.
    #[tracing::instrument(skip_all, fields(route = "places.search", next_page = page_token.is_some()))]
    pub async fn page(
        &self,
        query: &PlaceQuery,
        page_token: Option<&str>,
    ) -> Result<Page, ProviderError> {
        self.sized_page(query, page_token, 20).await
    }

    /// A one-result search with the pipeline's own field mask and key: what a deployment
    /// check sends, so a refused key, a disabled API or a mask Google no longer accepts
    /// shows the answer the first campaign would get, at the cost of one result.
    #[tracing::instrument(skip_all, fields(route = "places.search", probe = true))]
    pub async fn probe(&self, query: &PlaceQuery) -> Result<Page, ProviderError> {
        self.sized_page(query, None, 1).await
    }

    async fn sized_page(
        &self,
        query: &PlaceQuery,
        page_token: Option<&str>,
        page_size: u32,
    ) -> Result<Page, ProviderError> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'a> {
            #[serde(flatten)]
            query: &'a PlaceQuery,
            page_size: u32,
            #[serde(skip_serializing_if = "Option::is_none")]
            page_token: Option<&'a str>,
        }
        let request = self
            .http
            .post(&self.url)
            .header("X-Goog-Api-Key", &self.api_key)
            .header("X-Goog-FieldMask", FIELD_MASK)
            .json(&Body {
                query,
                page_size,
                page_token,
            });
        let response = http::send(
            http::Route::PlacesSearch,
            "places search",
            request,
            Effect::Idempotent,
        )
        .await?;
        if !response.status().is_success() {
            return Err(http::google_error("places search", response, &[&self.api_key]).await);
        }
        let raw: RawResponse = http::json("places search", response, Effect::Idempotent).await?;
        Ok(Page {
            places: raw
                .places
                .into_iter()
                .filter_map(RawPlace::into_place)
                .collect(),
            next_page_token: raw.next_page_token.filter(|t| !t.is_empty()),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub places: Vec<Place>,
    pub next_page_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RawResponse {
    places: Vec<RawPlace>,
    next_page_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RawPlace {
    id: String,
    display_name: Option<LocalizedText>,
    formatted_address: Option<String>,
    address_components: Vec<AddressComponent>,
    national_phone_number: Option<String>,
    international_phone_number: Option<String>,
    website_uri: Option<String>,
    rating: Option<f64>,
    user_rating_count: Option<i64>,
    location: Option<LatLng>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LocalizedText {
    text: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct AddressComponent {
    long_text: String,
    short_text: String,
    types: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LatLng {
    latitude: Option<f64>,
    longitude: Option<f64>,
}

impl RawPlace {
    /// `None` for a place without id or name: nothing a lead can be made of.
    fn into_place(self) -> Option<Place> {
        let name = self.display_name.map(|d| d.text).unwrap_or_default();
        if self.id.is_empty() || name.trim().is_empty() {
            return None;
        }
        let find = |ty: &str| {
            self.address_components
                .iter()
                .find(|c| c.types.iter().any(|t| t == ty))
        };
        let long = |ty: &str| {
            find(ty)
                .map(|c| c.long_text.clone())
                .filter(|s| !s.is_empty())
        };
        let short = |ty: &str| {
            find(ty)
                .map(|c| {
                    if c.short_text.is_empty() {
                        c.long_text.clone()
                    } else {
                        c.short_text.clone()
                    }
                })
                .filter(|s| !s.is_empty())
        };
        let city = long("locality")
            .or_else(|| long("postal_town"))
            .or_else(|| long("sublocality"))
            .or_else(|| long("sublocality_level_1"));
        let non_empty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        let national = non_empty(self.national_phone_number);
        let international = non_empty(self.international_phone_number);
        Some(Place {
            place_id: self.id,
            business_name: name,
            address: non_empty(self.formatted_address),
            city,
            province: short("administrative_area_level_1"),
            postal_code: long("postal_code"),
            country: short("country"),
            phone: national.clone().or_else(|| international.clone()),
            international_phone: international,
            website: non_empty(self.website_uri),
            rating: self.rating.filter(|r| r.is_finite()),
            review_count: self.user_rating_count.and_then(|n| i32::try_from(n).ok()),
            latitude: self.location.as_ref().and_then(|l| l.latitude),
            longitude: self.location.as_ref().and_then(|l| l.longitude),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_components_in_any_order_with_fallbacks() {
        let raw: RawResponse = serde_json::from_str(
            r#"{"places":[{"id":"p1","displayName":{"text":"Guelph Family Dental"},
            "addressComponents":[
              {"longText":"Canada","shortText":"CA","types":["country","political"]},
              {"longText":"N1H 3A2","shortText":"N1H 3A2","types":["postal_code"]},
              {"longText":"Ontario","shortText":"ON","types":["administrative_area_level_1","political"]},
              {"longText":"Old Town","shortText":"Old Town","types":["sublocality","political"]},
              {"longText":"Guelph","shortText":"Guelph","types":["postal_town"]}],
            "internationalPhoneNumber":"+1 519-555-0100","userRatingCount":212,
            "location":{"latitude":43.5,"longitude":-80.2}},
            {"id":"p2"}]}"#,
        )
        .unwrap();
        let places: Vec<Place> = raw
            .places
            .into_iter()
            .filter_map(RawPlace::into_place)
            .collect();
        assert_eq!(places.len(), 1, "a place without a name is dropped");
        let p = &places[0];
        assert_eq!(
            p.city.as_deref(),
            Some("Guelph"),
            "postal_town before sublocality"
        );
        assert_eq!(p.province.as_deref(), Some("ON"));
        assert_eq!(p.postal_code.as_deref(), Some("N1H 3A2"));
        assert_eq!(p.country.as_deref(), Some("CA"));
        assert_eq!(p.phone.as_deref(), Some("+1 519-555-0100"));
        assert_eq!(p.review_count, Some(212));
        assert_eq!(p.rating, None);
        assert_eq!(p.website, None);
        assert_eq!(p.latitude, Some(43.5));
        let empty: RawResponse = serde_json::from_str("{}").unwrap();
        assert!(empty.places.is_empty() && empty.next_page_token.is_none());
    }

    /// A searchText answer as developers.google.com/maps/documentation/places/web-service/text-search
    /// ("Text Search (New)", response example) shows it: `places[]` with the masked fields
    /// and `nextPageToken`.
    #[test]
    fn fixture_search_text_response_from_the_documentation() {
        let raw: RawResponse = serde_json::from_str(
            r#"{
              "places": [
                {
                  "id": "ChIJs5ydyTiuEmsR0fRSlU0C7k0",
                  "formattedAddress": "1 Macquarie St, Sydney NSW 2000, Australia",
                  "addressComponents": [
                    {"longText": "1", "shortText": "1", "types": ["street_number"], "languageCode": "en"},
                    {"longText": "Sydney", "shortText": "Sydney", "types": ["locality", "political"], "languageCode": "en"},
                    {"longText": "New South Wales", "shortText": "NSW", "types": ["administrative_area_level_1", "political"], "languageCode": "en"},
                    {"longText": "Australia", "shortText": "AU", "types": ["country", "political"], "languageCode": "en"},
                    {"longText": "2000", "shortText": "2000", "types": ["postal_code"], "languageCode": "en"}
                  ],
                  "location": {"latitude": -33.8599358, "longitude": 151.2133301},
                  "rating": 4.2,
                  "userRatingCount": 1200,
                  "websiteUri": "https://example.com/",
                  "nationalPhoneNumber": "(02) 9251 5600",
                  "internationalPhoneNumber": "+61 2 9251 5600",
                  "displayName": {"text": "Spicy Vegetarian Restaurant", "languageCode": "en"}
                }
              ],
              "nextPageToken": "AeeoHcKv0ZmR1n7-G3iUNWS3NfJD3qLVeNjpZHYJH7"
            }"#,
        )
        .unwrap();
        assert_eq!(
            raw.next_page_token.as_deref(),
            Some("AeeoHcKv0ZmR1n7-G3iUNWS3NfJD3qLVeNjpZHYJH7")
        );
        let p = raw
            .places
            .into_iter()
            .find_map(RawPlace::into_place)
            .unwrap();
        assert_eq!(p.business_name, "Spicy Vegetarian Restaurant");
        assert_eq!(p.city.as_deref(), Some("Sydney"));
        assert_eq!(p.province.as_deref(), Some("NSW"));
        assert_eq!(p.country.as_deref(), Some("AU"));
        assert_eq!(p.phone.as_deref(), Some("(02) 9251 5600"));
        assert_eq!(p.rating, Some(4.2));
        assert_eq!(p.review_count, Some(1200));
    }

    /// Places' errors are `google.rpc.Status` bodies (cloud.google.com/apis/design/errors;
    /// developers.google.com/maps/documentation/places/web-service/usage-and-billing for
    /// the quotas): a missing field mask (400), a bad key (400 `API_KEY_INVALID`), a
    /// per-minute quota and a per-day quota, both named in `ErrorInfo.metadata.quota_limit`.
    #[test]
    fn fixture_search_text_errors_from_the_documentation() {
        use crate::providers::http::google_error_body;
        let error = |status: u16, body: &str| {
            google_error_body("places search", status, None, body.as_bytes(), &[])
        };
        let e = error(
            400,
            r#"{"error": {"code": 400, "message": "FieldMask is a required parameter. See https://cloud.google.com/apis/docs/system-parameters on how to provide it.", "status": "INVALID_ARGUMENT"}}"#,
        );
        assert!(matches!(e, ProviderError::Permanent { .. }), "{e:?}");
        let e = error(
            400,
            r#"{"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com", "metadata": {"service": "places.googleapis.com"}}]}}"#,
        );
        assert!(matches!(e, ProviderError::Permanent { .. }), "{e:?}");
        let quota = |limit: &str| {
            format!(
                r#"{{"error": {{"code": 429, "message": "Quota exceeded for quota metric 'SearchTextRequest' and limit '{limit}' of service 'places.googleapis.com' for consumer 'project_number:123456789012'.", "status": "RESOURCE_EXHAUSTED",
                "details": [{{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RATE_LIMIT_EXCEEDED", "domain": "googleapis.com",
                  "metadata": {{"quota_location": "global", "quota_metric": "places.googleapis.com/search_text_requests", "quota_limit": "{limit}", "quota_limit_value": "600", "consumer": "projects/123456789012", "service": "places.googleapis.com"}}}},
                  {{"@type": "type.googleapis.com/google.rpc.Help", "links": [{{"description": "Request a higher quota limit.", "url": "https://cloud.google.com/docs/quotas/help/request_increase"}}]}}]}}}}"#
            )
        };
        let e = error(429, &quota("SearchTextRequestsPerMinutePerProject"));
        assert!(matches!(e, ProviderError::Throttled { .. }), "{e:?}");
        let e = error(429, &quota("SearchTextRequestsPerDayPerProject"));
        assert!(matches!(e, ProviderError::RateLimitedUntil { .. }), "{e:?}");
        let e = error(
            404,
            r#"{"error": {"code": 404, "message": "Method not found.", "status": "NOT_FOUND"}}"#,
        );
        assert!(matches!(e, ProviderError::Misconfigured { .. }), "{e:?}");
    }
}
