// Package fakeauth is the OAuth 2.0 server of the fake Salesforce org
// (sftest), written from SALESFORCE.md section 1.
//
// It serves the login host paths:
//
//	/services/oauth2/authorize  HTML login page, then consent page (1.2)
//	/services/oauth2/token      authorization_code (with PKCE), refresh_token,
//	                            JWT bearer, password and client_credentials grants
//	/services/oauth2/revoke     revocation of refresh or access tokens (1.8)
//	/services/oauth2/userinfo   OpenID Connect style user information (1.9)
//	/id/{orgID}/{userID}        the identity URL returned as "id" (1.9)
//	/id/keys                    the JWK set that verifies id_tokens
//
// Token responses carry exactly the fields of section 1.4, in the order of
// real responses: access_token, refresh_token (only with the refresh_token
// or offline_access scope, and on refresh only when rotation is on),
// signature (1.5), scope, id_token (only with openid), instance_url, id,
// token_type and issued_at (milliseconds, as a string). There is never an
// expires_in. The JWT bearer response has only access_token, scope,
// instance_url, id and token_type, as in the published samples (1.10).
// The response format follows the format parameter or the Accept header
// (json, urlencoded or xml, 1.3).
//
// Errors are HTTP 400 with a JSON body {"error","error_description"}
// (1.7):
//
//	invalid_request         missing grant_type, code or refresh_token; a PKCE
//	                        code_verifier that does not match (1.2); a verifier
//	                        without challenge; a body that is not a form
//	invalid_grant           unknown, reused or expired code (15 minutes); a
//	                        challenge without verifier (1.2); a revoked or
//	                        rotated-out refresh token ("expired access/refresh
//	                        token"); a wrong password; a bad JWT assertion
//	invalid_client_id       unknown client_id ("client identifier invalid")
//	invalid_client          wrong or missing client secret (body or HTTP Basic)
//	redirect_uri_mismatch   redirect_uri differs from the authorization request
//	unsupported_grant_type  any other grant_type
//
// On the authorize endpoint, a bad client_id or redirect_uri shows an error
// page (status 400) rather than redirecting; other errors and Deny redirect
// to the callback with error and error_description (access_denied /
// "end-user denied authorization"), and state.
//
// A successful login sets a browser session cookie (for SessionTimeout):
// a later request from that browser skips the login page, and skips the
// consent page too once the app was allowed. prompt=login and
// prompt=consent force the pages back; immediate=true redirects with a
// code, or with immediate_unsuccessful when the pages would be needed.
//
// Access tokens live for Config.SessionTimeout on the Config.Now clock,
// counted from issue. The identity URL and userinfo answer a missing,
// expired or revoked bearer token with 403 and the text Missing_OAuth_Token
// or Bad_OAuth_Token.
//
// Tests approve an authorization request without a browser with
// [Server.Authorize], which applies the same validation as the pages.
//
// The server keeps everything in memory and is safe for concurrent use.
package fakeauth
