# English. Every key here must also be in fr.ftl (a test checks); the pages never show text
# that is not in these two files.

brand = AstroGrowth
nav-label = Main menu
nav-home = Home
nav-admin = Queues
nav-contents = Posts
nav-new-campaign = New campaign
# The switch names the other language in that language.
nav-switch-language = Français
nav-sign-out = Sign out

## Errors a browser gets, as pages
error-code = Error { $status }
error-back-home = Back to home
error-not-found-title = Page not found
error-not-found-body = This page does not exist, or it is not yours to see.
error-expired-title = This form has expired
error-expired-body = Go back, reload the page and try again.
error-forbidden-title = Access refused
error-forbidden-body = Your account cannot open this page.
error-busy-title = Slow down a little
error-busy-body = You have sent many requests in a short time. Wait a minute, then try again.
error-unavailable-title = Temporarily unavailable
error-unavailable-body = A service we rely on is not answering. Try again in a few minutes.
error-internal-title = Something went wrong
error-internal-body = It is our fault, and we have been told. Try again in a few minutes.
error-bad-request-title = We could not read that request
error-bad-request-body = Go back, check what you entered and try again.

## Sign in, sign up
sign-in-title = Sign in
sign-in-submit = Sign in
sign-in-wrong = The e-mail or the password is wrong.
sign-in-throttled = Too many attempts. Wait a few minutes, then try again.
sign-in-no-account = No account yet?
sign-in-to-sign-up = Create one
sign-up-title = Create your account
sign-up-intro = Find local businesses and publish posts about them on LinkedIn, in a few clicks.
sign-up-submit = Create my account
sign-up-done = Your account is ready (if this e-mail did not already have one). Sign in with your password.
sign-up-have-account = Already have an account?
sign-up-to-sign-in = Sign in
field-name = Your name
field-email = E-mail
field-password = Password
field-password-hint = At least 10 characters.

## Validation, shown next to the field
invalid-required = Please fill this in.
invalid-too-long = This is too long: { $max } characters at most.
invalid-control-characters = This contains characters that cannot be used.
invalid-invisible-formatting = This contains invisible formatting characters; please type it again.
invalid-email = This is not a valid e-mail address.
invalid-password-short = The password needs at least { $min } characters.
invalid-password-long = The password can have { $max } characters at most.
invalid-website = Enter an address starting with http:// or https://.

## Home
home-title = Your dashboard
home-posts = My posts
home-new-campaign = New campaign
home-kpis = Key figures
home-engagement-missing = Reactions stay empty: your LinkedIn connection does not allow reading your posts' statistics. That needs LinkedIn's approval of this application for post analytics (Community Management API). Once your administrator has it and has turned post analytics on, connect LinkedIn again.
home-engagement-missing-action = Go to your profile
kpi-leads = Businesses found
kpi-contents = Posts written
kpi-published = Posts published
kpi-engagement = Reactions
attention-title = Needs your attention
attention-pending = { $count ->
    [one] One post is waiting for your approval.
   *[other] { $count } posts are waiting for your approval.
}
attention-pending-action = Review →
attention-reconnect = LinkedIn has disconnected your account: reconnect it so your posts can be published.
attention-none = Nothing to do for now.
recent-title = Recent campaigns
recent-empty = You have no campaign yet. A campaign finds businesses in a city and writes posts about them.
recent-empty-action = Start my first campaign
campaign-target = { $industry } · { $city }
campaign-leads-count = { $count ->
    [one] 1 business
   *[other] { $count } businesses
}

## Statuses
status-draft = Draft
status-scraping = Searching
status-enriching = Analysing
status-generating = Writing
status-ready = Ready
status-completed = Completed
status-error = Problem
status-cancelled = Cancelled
status-pending = Waiting for you
status-approved = Approved
status-rejected = Rejected
status-published = Published
status-failed = Failed
campaign-status-help-draft = This campaign has not started yet.
campaign-status-help-scraping = We are looking for businesses. Those found so far are listed below.
campaign-status-help-enriching = We are learning about the businesses we found.
campaign-status-help-generating = We are writing posts. Those that score well approve themselves once LinkedIn is connected; you decide on the others.
campaign-status-help-ready = All posts are written. Below: which ones wait for you, which are scheduled.
campaign-status-help-completed = This campaign is finished.
campaign-status-help-error = Something stopped this campaign. We have been told.
campaign-status-help-cancelled = This campaign was cancelled.

## New campaign wizard
wizard-title = New campaign
wizard-step = Step { $step } of { $steps }
wizard-name-question = What should we call this campaign?
wizard-name-label = Campaign name
wizard-name-hint = Only you see it, for example "Spring bakeries".
wizard-industry-question = Which kind of business are you looking for?
wizard-industry-label = Business type
wizard-industry-hint = For example: bakery, hairdresser, plumber.
wizard-city-question = In which city?
wizard-city-label = City or area
wizard-city-hint = For example: Lyon, or Paris 11e.
wizard-back = Back
wizard-cancel = Cancel
wizard-next = Next
wizard-launch = Launch the campaign
launched-title = Campaign launched! We'll let you know.
launched-body = “{ $name }” is looking for businesses now. You can close this page: we will tell you when posts are ready to approve.
launched-see-campaign = Follow the campaign
launched-home = Back to home

## Campaign page
leads-title = Businesses found
leads-empty = No business found yet.
leads-business = Business
leads-city = City
leads-rating = Rating
leads-score = Score
leads-not-scored = pending
contents-title = Posts
contents-empty = No post written yet.
contents-score = Quality { $score }/100

## Admin: queues
admin-title = Queues
admin-intro = Jobs waiting, running, scheduled and failed, per queue.
admin-nav-label = Admin sections
admin-nav-overview = Overview
admin-nav-workers = Workers
admin-nav-audit = Audit log
admin-find-label = Find a job by its id
admin-find = Find
admin-find-missing = No job has the id { $id } (it may have completed).
admin-misconfigured-heading = Operator action needed: { $provider } does not know a setting of ours
admin-misconfigured-fix = Fix { $setting }, then restart the workers. Waiting contents resume by themselves within 10 minutes; nothing is published without its image meanwhile.
admin-misconfigured-seen = Last met { $at }.
admin-queues-heading = Queues
admin-live-workers = { $count ->
    [0] No worker is running.
    [one] One worker is running.
   *[other] { $count } workers are running.
}
admin-see-workers = See the workers
admin-no-queues = No queue has been used yet.
admin-queue = Queue
admin-ready = Ready
admin-in-flight = Running
admin-scheduled = Scheduled
admin-retrying = Retrying
admin-deferred = Deferred
admin-dead = Failed
admin-lag = Lag
admin-last-hour = Last hour
admin-actions = Actions
admin-paused = paused
admin-pause = Pause
admin-resume = Resume
admin-columns-help = Lag: how long the oldest ready job has waited. Scheduled: every job waiting for its time, the retrying and deferred ones (the next two columns) included; its link lists them. Ready includes the jobs waiting for their owner's turn.
admin-owners-heading = Owners
admin-owners-intro = Owners take turns in each queue: while one owner's backlog drains, another owner's jobs go in at the next free slot instead of behind it. The busiest owners of each queue:
admin-owner = Owner
admin-owner-gone = account deleted (#{ $id })
admin-owner-running = Running
admin-owner-waiting = Waiting for their turn
admin-charts-heading = The last { $hours } hours, per minute
admin-chart-throughput = Jobs completed
admin-chart-failures = Failed attempts
admin-chart-summary = { $total } in all; at most { $peak } in one minute, at { $at } UTC.
admin-chart-empty = None in this period.
admin-chart-table = Show as a table
admin-chart-from = From (UTC)
admin-notice-retried = The job is back in its queue.
admin-notice-discarded = The job was deleted.
admin-notice-run-now = The job will run in a moment.
admin-notice-gone = That job is no longer there: someone or something else handled it.
admin-notice-unique-held = The job stays failed: the same job is already queued again.
admin-notice-bulk-retried = { $count ->
    [0] No job needed retrying any more.
    [one] One job is back in its queue.
   *[other] { $count } jobs are back in their queue.
}
admin-notice-bulk-discarded = { $count ->
    [0] No job needed deleting any more.
    [one] One job was deleted.
   *[other] { $count } jobs were deleted.
}
admin-notice-paused = The queue is paused: workers take no new job from it.
admin-notice-resumed = The queue is running again.
admin-back = ← All queues
admin-jobs-title-dead = Failed jobs in { $queue }
admin-jobs-title-ready = Ready jobs in { $queue }
admin-jobs-title-running = Running jobs in { $queue }
admin-jobs-title-scheduled = Scheduled jobs in { $queue }
admin-pause-queue = Pause this queue
admin-resume-queue = Resume this queue
admin-queue-paused-help = Paused: workers take no new job from this queue.
admin-states-label = Jobs by state
admin-state-dead = Failed
admin-state-ready = Ready
admin-state-running = Running
admin-state-scheduled = Scheduled
admin-filter-kind = Kind
admin-filter-user = User id
admin-filter-user-invalid = A user id is a whole number, like 42.
admin-filter-too-long = This search is too long.
admin-filter-text = Text in the arguments
admin-filter-submit = Search
admin-filter-clear = Clear
admin-bulk-matching = Every failed job matching this search:
admin-bulk-all = Every failed job of this queue:
admin-bulk-retry = Retry them…
admin-bulk-discard = Delete them…
admin-scan-budget = Searched { $scanned } jobs, newest first, and found { $found } so far.
admin-scan-continue = Search the next ones
admin-jobs-none-matching = No job matches this search.
admin-jobs-empty-dead = No failed job in this queue.
admin-jobs-empty-ready = No job is waiting in this queue.
admin-jobs-empty-running = No job of this queue is running.
admin-jobs-empty-scheduled = No job of this queue is scheduled.
admin-dead-meta = Attempt { $attempt } of { $max }, failed { $when }
admin-scheduled-meta = Runs { $when } · attempt { $attempt } of { $max } used
admin-enqueued-meta = Queued { $when } · attempt { $attempt } of { $max } used
admin-user = user { $id }
admin-deferred-because = Waiting: { $reason }
admin-retry = Retry
admin-run-now = Run now
admin-discard = Delete
admin-first-page = ← First page
admin-job-title = Job { $kind }
admin-back-to-dead = ← Failed jobs in { $queue }
admin-back-to-ready = ← Ready jobs in { $queue }
admin-back-to-running = ← Running jobs in { $queue }
admin-back-to-scheduled = ← Scheduled jobs in { $queue }
admin-job-state = State
admin-job-attempts = Attempts used
admin-job-attempts-value = { $attempt } of { $max }
admin-job-user = User id
admin-job-enqueued = First queued
admin-job-run-at = Next run
admin-job-died = Failed for good
admin-job-worker = Held by
admin-job-idle = for { $idle }
admin-job-unique = Unique key
admin-job-deferred = Deferred
admin-job-deferred-text = { $reason } — runs again { $until } ({ $count ->
    [one] deferred once
   *[other] deferred { $count } times in a row
}).
admin-job-errors = Errors, newest first
admin-job-no-errors = No error so far.
admin-job-error-meta = Attempt { $attempt }, { $when }
admin-job-args = Arguments
admin-job-args-help = Values whose names look like secrets (token, password, key…) are hidden.
admin-confirm-title-retry = Retry failed jobs?
admin-confirm-title-discard = Delete failed jobs?
admin-confirm-count-retry = { $count ->
    [0] No failed job of { $queue } matches: there is nothing to retry.
    [one] One failed job of { $queue } will go back to its queue.
   *[other] { $count } failed jobs of { $queue } will go back to their queue.
}
admin-confirm-count-discard = { $count ->
    [0] No failed job of { $queue } matches: there is nothing to delete.
    [one] One failed job of { $queue } will be deleted for good.
   *[other] { $count } failed jobs of { $queue } will be deleted for good.
}
admin-confirm-count-partial-retry = At least { $count } failed jobs of { $queue } match; every one that matches will go back to its queue.
admin-confirm-count-partial-discard = At least { $count } failed jobs of { $queue } match; every one that matches will be deleted for good.
admin-confirm-scan-budget = Counted among the newest { $scanned } failed jobs only: older ones may match too.
admin-confirm-button-all-retry = Retry every match
admin-confirm-button-all-discard = Delete every match
admin-confirm-no-filter = No filter: this takes every failed job of the queue.
admin-confirm-help-retry = Their attempts start again from zero. Jobs that fail after now are not included.
admin-confirm-help-discard = This cannot be undone. Jobs that fail after now are not included.
admin-confirm-button-retry = { $count ->
    [one] Retry 1 job
   *[other] Retry { $count } jobs
}
admin-confirm-button-discard = { $count ->
    [one] Delete 1 job
   *[other] Delete { $count } jobs
}
admin-confirm-cancel = Cancel
admin-workers-title = Workers
admin-workers-intro = The worker processes that sent a heartbeat in the last few seconds.
admin-workers-none = No worker is running.
admin-worker-host = { $host }, process { $pid }
admin-worker-beat = last heartbeat { $age } ago
admin-worker-started = started { $when }
admin-worker-concurrency = Slots
admin-worker-busy = Busy
admin-worker-running = Running jobs
admin-worker-runtime = for { $runtime }
admin-audit-title = Audit log
admin-audit-intro = Every action taken on the queues: who, what, when, and how many jobs.
admin-audit-empty = No action has been taken yet.
admin-audit-when = When (UTC)
admin-audit-who = Who
admin-audit-what = What
admin-audit-target = Job or filter
admin-audit-count = Jobs
admin-audit-every-job = every job
admin-action-retry = Retried a job
admin-action-discard = Deleted a job
admin-action-run_now = Ran a job now
admin-action-retry_matching = Retried failed jobs
admin-action-discard_matching = Deleted failed jobs
admin-action-pause = Paused the queue
admin-action-resume = Resumed the queue

## Content gallery
gallery-title = Your posts
gallery-intro = Approve the posts you like: they are published on LinkedIn. Reject the others.
gallery-filters = Show
gallery-filter-pending = Waiting for you
gallery-filter-approved = Approved
gallery-filter-published = Published
gallery-filter-rejected = Rejected
gallery-filter-failed = Failed
gallery-filter-all = All
gallery-empty = No post here.
gallery-count = { $count ->
    [one] One post.
   *[other] { $count } posts.
}
gallery-see-campaign = Its campaign
gallery-approve = Approve
gallery-reject = Reject
gallery-done-approved = Approved: it will be published on LinkedIn.
gallery-done-approved-waiting = Approved. Connect LinkedIn so it can be published.
gallery-done-rejected = Rejected: it will not be published.
gallery-done-already-decided = This post had already been decided.
gallery-pages = Pages
gallery-page = Page { $page } of { $pages }
gallery-previous = ← Previous
gallery-next = Next →

## Live progress, score breakdowns, gallery filters and editing
kpi-enriched = Businesses analysed
leads-skipped = Skipped: no post for this one.
live-title = Live
live-intro = This list follows the campaign as it runs, without reloading the page.
live-event-status = Campaign: { $status }
live-event-leads-found = { $count ->
    [one] One business found
   *[other] { $count } businesses found
}
live-event-lead-enriched = { $name } analysed: score { $score }/100
live-event-lead-enriched-unnamed = A business analysed: score { $score }/100
live-event-content-generated = Post written for { $name }: quality { $score }/100
live-event-content-generated-unnamed = A post written: quality { $score }/100
live-event-published = A post is now on LinkedIn.
live-event-published-link = See it
live-event-failed-lead = { $name } skipped: { $reason }
live-event-failed-content = A post could not be published: { $reason }
live-event-failed-unknown = LinkedIn did not confirm a post: check your LinkedIn page before trying again.
live-event-failed = Something went wrong: { $reason }
live-event-deferred = Paused: { $reason }
live-event-deferred-until = Paused: { $reason }, next try at { $time }
live-reason-none = no reason given
live-reason-reconnect = LinkedIn needs you to reconnect your account
live-reason-daily-limit = { $provider } daily limit reached
live-reason-quota = { $provider } quota used up for today
live-reason-rate-limit = { $provider } rate limit reached
live-reason-busy = { $provider } is not answering right now
live-provider-enrichment = business lookup
live-provider-images = image creation
score-why-lead = Why { $score }?
score-why-content = Why { $score }/100?
score-points = { $points }/{ $max }
score-signal-website = Website
score-signal-website_reachable = Website works
score-signal-email = E-mail
score-signal-phone = Phone
score-signal-rating = Rating
score-signal-reviews = Reviews
score-signal-address = Address
score-signal-length = Length
score-signal-names_business = Names the business
score-signal-names_city = Names the city
score-signal-hashtags = Hashtags
score-signal-image = Image
score-signal-call_to_action = Call to action
score-signal-clean = Ready to publish
score-detail-no-website = No website listed
score-detail-site-answered = The site answered
score-detail-site-silent = The site did not answer
score-detail-no-email = No e-mail found
score-detail-no-phone = No phone found
score-detail-no-rating = No rating yet
score-detail-no-reviews = No reviews yet
score-detail-full-address = Street, city and postal code
score-detail-address-incomplete = Address incomplete
score-detail-business-not-named = The business is not named
score-detail-city-not-named = The city is not named
score-detail-image = An image goes with the post
score-detail-no-image = No image
score-detail-asks-question = Asks the reader a question
score-detail-no-call-to-action = Does not ask the reader to do anything
score-detail-no-leftovers = No placeholder text left
score-detail-reviews = { $count ->
    [one] One review
   *[other] { $count } reviews
}
score-detail-characters = { $count } characters
score-detail-hashtags = { $count ->
    [one] One hashtag
   *[other] { $count } hashtags
}
score-detail-stars = { $value } stars
score-detail-asks-to = Asks the reader to “{ $value }”
score-detail-leftover = Placeholder text left: “{ $value }”
gallery-filter-status = Status
gallery-filter-campaign = Campaign
gallery-filter-any-campaign = All campaigns
gallery-filter-min-score = Quality at least
gallery-filter-apply = Show
gallery-min-score-invalid = Enter a number from 0 to 100.
gallery-image-alt = The picture that goes with this post
gallery-edit = Edit the text
gallery-edit-label = Text of the post
gallery-edit-hint = Up to { $max } characters. Hashtags are kept as they are.
gallery-edit-save = Save the text
gallery-done-edited = Text saved. Approve the post when it reads right.
toast-close = Close this message

## Profile, home charts and "needs your attention"
nav-profile = Profile
home-done-marked-published = Thank you: the post is marked as published.
home-done-published-again = It will be published again in a moment.
home-done-already-resolved = This publication had already been settled.
attention-reconnect-action = Reconnect →
attention-linkedin-expires = { $days ->
    [one] Your LinkedIn connection expires in { $days } day — reconnect it to keep publishing.
   *[other] Your LinkedIn connection expires in { $days } days — reconnect it to keep publishing.
}
attention-unknown = LinkedIn did not confirm whether this post went out ({ $date }). Check your LinkedIn page, then tell us:
attention-unknown-more = { $count ->
    [one] One more publication needs checking: it will show here next.
   *[other] { $count } more publications need checking: they will show here next.
}
resolve-url-label = It is on LinkedIn: paste its address
resolve-url-placeholder = https://www.linkedin.com/feed/update/…
resolve-url-hint = On LinkedIn, open the post, then copy the address from your browser.
resolve-mark-published = It is published
resolve-not-there = It is not on LinkedIn?
resolve-publish-again = Publish it again
resolve-url-required = Paste the address of the post on LinkedIn.
resolve-url-invalid = This is not the address of a LinkedIn post. It looks like https://www.linkedin.com/feed/update/urn:li:share:…
resolve-url-taken = This post is already recorded for another publication. Paste the address of this one's own post.
charts-title = The last 30 days
charts-period = per day, the last 30 days
chart-leads-title = Businesses found
chart-contents-title = Posts written
chart-published-title = Posts published
chart-desc = { $total } in total; the busiest day was { $date }, with { $best }.
chart-desc-empty = None in the last 30 days.
chart-bar = { $date }: { $value }
charts-table-caption = The last 30 days, day by day
charts-table-day = Day
date-day-month = { $month ->
    [1] Jan
    [2] Feb
    [3] Mar
    [4] Apr
    [5] May
    [6] Jun
    [7] Jul
    [8] Aug
    [9] Sep
    [10] Oct
    [11] Nov
   *[12] Dec
} { $day }
date-full = { $month ->
    [1] January
    [2] February
    [3] March
    [4] April
    [5] May
    [6] June
    [7] July
    [8] August
    [9] September
    [10] October
    [11] November
   *[12] December
} { $day }, { $year }
profile-title = Your profile
profile-intro = Your business, your language, and the LinkedIn account your posts go out from.
profile-notice-connected = LinkedIn is connected. Approved posts will now be published.
profile-notice-cancelled = LinkedIn was not connected: the authorisation was cancelled.
profile-notice-refused = LinkedIn refused the connection.
profile-refusal-said = LinkedIn's answer:
profile-refusal-scope = This application asks LinkedIn for a permission its LinkedIn app is not approved for. Tell your administrator: either LinkedIn approves the app for it, or post analytics are turned off in the settings. Then connect again.
profile-notice-failed = LinkedIn could not be connected. Try again in a few minutes.
profile-notice-unavailable = Connecting LinkedIn is not available right now. Try again later.
profile-notice-disconnected = LinkedIn is disconnected. Nothing will be published until you connect it again.
profile-notice-saved = Your profile is saved.
profile-linkedin-title = LinkedIn
profile-linkedin-connected = Connected
profile-linkedin-reconnect = Reconnect needed
profile-linkedin-disconnected = Not connected
profile-linkedin-why = Connect your LinkedIn account so the posts you approve can be published.
profile-linkedin-member = Publishing as
profile-linkedin-expires = Connection valid until
profile-linkedin-days-left = { $days ->
    [one] { $days } day left
   *[other] { $days } days left
}
profile-linkedin-reconnect-why = LinkedIn no longer accepts this connection. Reconnect so your approved posts can be published.
profile-linkedin-renew = LinkedIn asks you to reconnect every 60 days; we will remind you a week before.
profile-linkedin-connect = Connect LinkedIn
profile-linkedin-reconnect-action = Reconnect LinkedIn
profile-linkedin-not-available = Connecting LinkedIn is not available on this server.
profile-linkedin-disconnect = Disconnect
profile-details-title = Your business
profile-details-intro = Your business name and type help us write posts that sound like you. Every field is optional.
profile-field-business_name = Business name
profile-field-business_type = Type of business
profile-field-location = City or area
profile-field-phone = Phone
profile-field-website = Website
profile-hint-business_name = As your customers know it.
profile-hint-business_type = For example: bakery, hair salon, plumber.
profile-hint-location = For example: Lyon, or Paris 11e.
profile-hint-phone = Not shown in your posts.
profile-hint-website = Starting with https://
profile-language = Language of the pages
profile-language-hint = Kept on your account: every device you sign in from uses it.
language-name-fr = Français
language-name-en = English
profile-save = Save
disconnect-title = Disconnect LinkedIn?
disconnect-member = Account: { $name }
disconnect-body = We will forget the connection. Approved posts wait until you connect LinkedIn again; nothing is deleted from LinkedIn.
disconnect-confirm = Yes, disconnect
disconnect-cancel = Cancel

# Why something ended without its result (pages/reasons.rs); the stored detail follows.
reason-no-business = Google Places found no business for this search. Try a nearby city or another wording of the activity.
reason-refused = { $provider } refused the request, and asking again would get the same answer.
reason-waited = { $provider } kept asking us to wait, for too long: we stopped waiting.
reason-attempts = { $provider } kept failing: we stopped after several tries.
reason-reconnect = LinkedIn needs you to reconnect your account; then publish the post again.
reason-outcome-unknown = LinkedIn did not say whether the post went out. Check your LinkedIn page, then mark it published or publish it again.
reason-same-text = LinkedIn already has a post with this exact text: edit the text and publish again.
reason-no-image = The image could not be made: the post goes on without one.
reason-model-declined = Gemini declined to write this post.
reason-other = Something went wrong.
reason-provider-unnamed = the service
reason-details = Details:
reason-foreign-mention = The post mentions a link, an address or an account that is not yours: check it before approving.

## The publishing schedule page (pages/schedule.rs)
nav-schedule = Schedule
schedule-title = Publishing schedule
schedule-intro = Approved posts go out one per slot, in your time zone, so your network is not flooded.
schedule-slots-title = Your posting slots
schedule-immediate = Posts are currently published as soon as they are approved. Saving slots here turns that off.
schedule-time-zone = Time zone
schedule-time-zone-help = An IANA name, like Europe/Paris or America/Montreal.
schedule-days = Days
schedule-day-1 = Monday
schedule-day-2 = Tuesday
schedule-day-3 = Wednesday
schedule-day-4 = Thursday
schedule-day-5 = Friday
schedule-day-6 = Saturday
schedule-day-7 = Sunday
schedule-times = Times
schedule-times-help = Separated by commas, like 09:00, 14:00.
schedule-per-day = Posts a day at most
schedule-per-day-help = From 1 to 100 (LinkedIn's own limit).
schedule-save = Save the slots
schedule-error-time-zone = This time zone is unknown: write its IANA name, like Europe/Paris or America/Montreal.
schedule-error-days = Tick at least one day.
schedule-error-times = Write times like 09:00, 14:00, separated by commas (24 at most).
schedule-error-per-day = Choose between 1 and 100 posts a day.
schedule-upcoming = Coming up
schedule-empty = No approved post is waiting. Posts you approve take the next free slot.
schedule-unscheduled = Out of the schedule
schedule-started = Being published: it can no longer be moved.
schedule-publish-now = Publish now
schedule-move-to = Move to
schedule-move = Move
schedule-put-back = Schedule
schedule-unschedule = Take out
schedule-done-saved = Slots saved: the posts waiting took their new slots.
schedule-done-published-now = It goes out in a few seconds. Changed your mind? Undo it now.
schedule-done-moved = Moved.
schedule-done-unscheduled = Taken out of the schedule: it waits until you schedule it again.
schedule-done-started = Its publishing had already started: it was not changed.
schedule-done-slot-taken = That slot is no longer free: choose another.
content-scheduled-for = Scheduled for { $when }

# The leads' CSV export (routes/leads_csv.rs): its column headers and the campaign page's link.
export-column-name = Business
export-column-address = Address
export-column-city = City
export-column-phone = Phone
export-column-email = E-mail
export-column-website = Website
export-column-rating = Rating
export-column-score = Score
export-column-reasons = Why this score
export-leads-link = Download the businesses (CSV)

# Forgot password (pages/password_reset.rs) and the sign-in page's link to it.
forgot-link = Forgot your password?
forgot-title = Forgot your password
forgot-intro = Enter your account's e-mail: we send you a link to choose a new password, valid 30 minutes.
forgot-submit = Send me a link
forgot-sent = If this e-mail has an account, a link is on its way. It works once, for 30 minutes. Check your spam folder if it does not arrive.
forgot-back = Back to sign-in
forgot-throttled = Too many requests for now. Wait a while, then try again.
reset-title = Choose a new password
reset-intro = Your new password signs you out on every device; then sign in with it.
field-new-password = New password
reset-submit = Save my new password
reset-invalid = This link does not work any more: it was already used, or its 30 minutes are over.
reset-ask-again = Ask for a new link
reset-done = Your password is changed and every session is ended. Sign in with your new password.

# The notices mailed to the owner (pages/notices.rs), on the profile page.
notices-title = E-mail notices
notices-intro = We write to you when something needs you. Untick what you do not want to receive.
notices-kind-approvals_waiting = Posts are waiting for my approval
notices-kind-linkedin_reconnect = LinkedIn must be reconnected, or expires within 7 days
notices-kind-campaign_error = A campaign stopped with an error
notices-kind-publication_unknown = LinkedIn did not say whether a post went out
notices-save = Save my notices
notices-saved = Your notices are saved.
profile-schedule-change = Change the schedule

## The owner's path: where her posts stand, her first steps, the phone menu, times with their zone
## (pages/post_counts.rs, pages/home.rs, pages/times.rs, base.html)
nav-menu = Menu
time-in-zone = { $time } ({ $city } time)
time-in-zone-name = { $time } ({ $zone })
time-zone-field-help = Start typing your city (Paris, Montreal…) and pick it from the list.
counts-title = Your posts
counts-campaign-title = This campaign's posts
counts-to-approve = { $count ->
    [one] waiting for your approval
   *[other] waiting for your approval
}
counts-generating = { $count ->
    [one] 1 more being written
   *[other] { $count } more being written
}
counts-scheduled = { $count ->
    [one] scheduled
   *[other] scheduled
}
counts-next = Next one: { $when }
counts-unscheduled = { $count ->
    [one] 1 taken out of the schedule
   *[other] { $count } taken out of the schedule
}
counts-published = { $count ->
    [one] published
   *[other] published
}
counts-needing = { $count ->
    [one] failed or needing you
   *[other] failed or needing you
}
campaign-cta-approve = { $count ->
    [one] Review the post waiting for your approval
   *[other] Review the { $count } posts waiting for your approval
}
campaign-cta-scheduled = { $count ->
    [one] See the scheduled post
   *[other] See the { $count } scheduled posts
}
attention-connect = LinkedIn is not connected: connect it so your posts can go out.
attention-connect-waiting = { $count ->
    [one] One approved post waits for LinkedIn: connect it so the post can go out.
   *[other] { $count } approved posts wait for LinkedIn: connect it so they can go out.
}
attention-connect-action = Connect LinkedIn →
attention-failed = { $count ->
    [one] One post could not be published.
   *[other] { $count } posts could not be published.
}
attention-failed-action = See why →
attention-late = { $count ->
    [one] One post is late: LinkedIn made us wait (a limit or an outage). It goes out as soon as allowed.
   *[other] { $count } posts are late: LinkedIn made us wait (a limit or an outage). They go out as soon as allowed.
}
attention-late-action = See the schedule →
onboarding-title = Your first steps
onboarding-progress = { $done } of { $all } done
onboarding-done = done
onboarding-linkedin = Connect your LinkedIn account
onboarding-business = Fill in your business details
onboarding-schedule = Choose your time zone and posting times
onboarding-campaign = Launch your first campaign
onboarding-approved = Approve your first posts
gallery-empty-none = You have no post yet. Launch a campaign: the posts it writes appear here.
gallery-empty-pending = No post is waiting for your approval: those that score well approve themselves once LinkedIn is connected, and you have decided on the others.
gallery-empty-approved = No approved post is waiting to go out.
gallery-empty-published = No post has been published yet: approved posts go out in your schedule's slots.
gallery-empty-rejected = You have rejected no post.
gallery-empty-failed = No post has failed.
gallery-empty-all = No post matches these filters.
gallery-empty-score = No post here has a quality of { $min } or more.
gallery-empty-see-all = { $count ->
    [one] See your only post
   *[other] See all { $count } posts
}

## Admin overview: failures stand out, a phone's table says it scrolls (admin_overview.html)
admin-hour-done = { $count } done
admin-hour-failed = { $count ->
    [one] 1 failed
   *[other] { $count } failed
}
admin-scroll-hint = Swipe the table sideways to see every column.

## Instagram: the connection on the profile page (Business Login for Instagram)
profile-instagram-title = Instagram
profile-instagram-why = Connect your Instagram professional account (business or creator) so the posts you approve for Instagram can be published there.
profile-instagram-reconnect-why = Instagram no longer accepts this connection. Reconnect so your approved posts can be published on Instagram.
profile-instagram-renew = We renew this connection ourselves before its 60 days are up; you only reconnect if Instagram refuses it.
profile-instagram-connect = Connect Instagram
profile-instagram-reconnect-action = Reconnect Instagram
profile-instagram-not-available = Connecting Instagram is not available on this server.
profile-instagram-notice-connected = Instagram is connected. Posts you approve for Instagram will now be published there.
profile-instagram-notice-cancelled = Instagram was not connected: you cancelled the authorisation on Instagram.
profile-instagram-notice-refused = Instagram refused the connection.
profile-instagram-notice-failed = Instagram could not be connected. Try again in a few minutes.
profile-instagram-notice-unavailable = Connecting Instagram is not available right now. Try again later.
profile-instagram-notice-disconnected = Instagram is disconnected. Nothing will be published there until you connect it again.
profile-instagram-refusal-said = Instagram's answer:
instagram-disconnect-title = Disconnect Instagram?
instagram-disconnect-account = Account: @{ $name }
instagram-disconnect-body = We will forget the connection. Posts approved for Instagram wait until you connect it again; nothing is deleted from Instagram.

## Previews, bulk review, undo, pause and the calendar (gallery and schedule pages)
undo = Undo
preview-linkedin-label = Preview: the post as LinkedIn will show it
preview-you = You, on LinkedIn
preview-linkedin-when = Now · Public
preview-see-more = see more
bulk-title = Review several posts at once
bulk-at-least = Quality at least
bulk-approve-at-least = Approve all at or above
bulk-approve-ticked = Approve the ticked posts
bulk-reject-ticked = Reject the ticked posts
bulk-help = Tick posts with the box beside their status, then approve or reject them together.
bulk-tick = Select this post
gallery-done-bulk-approved = { $count ->
    [0] No post was approved: none was waiting at that quality.
    [one] One post approved: it takes the next free slot.
   *[other] { $count } posts approved: they take the next free slots.
}
gallery-done-bulk-rejected = { $count ->
    [0] No post was rejected.
    [one] One post rejected.
   *[other] { $count } posts rejected.
}
gallery-done-unrejected = Rejection undone: the post waits for you again.
gallery-done-cannot-unreject = This rejection can no longer be undone.
schedule-done-undone = Undone: the post is back where it was.
schedule-done-paused = All your publishing is paused.
schedule-done-resumed = Publishing resumed: the waiting posts took the next free slots.
schedule-done-is-paused = Your publishing is paused: resume it to publish this post now.
schedule-done-too-late = Too late: its publishing had already started.
pause-is-on = Publishing is on
pause-on-help = Approved posts go out in their slots. Pause to hold them all.
pause-is-paused = Publishing is paused
pause-paused-help = Paused since { $since }. No post goes out; when you resume, the waiting posts take the next free slots.
pause-pause = Pause all publishing
pause-resume = Resume publishing
calendar-views = Views of the schedule
calendar-view-list = List
calendar-view-week = Week
calendar-view-month = Month
calendar-times-in = Times in your time zone: { $zone }.
calendar-previous-week = ← Previous week
calendar-next-week = Next week →
calendar-previous-month = ← Previous month
calendar-next-month = Next month →
calendar-today = Today
calendar-help = Drag a post to a free slot. With the keyboard: Enter on a post, then Enter on a free slot; Escape cancels. Or use its “Move to” menu.
calendar-picked = Post picked up. Go to a free slot and press Enter; Escape cancels.
calendar-moving = Moving the post…
calendar-cancelled = Move cancelled.
calendar-started = Being published
calendar-move-menu = Move to…
calendar-free = free
calendar-full = day full
profile-linkedin-photo = Your LinkedIn photo
# Signing in with an OpenID Connect provider (pages/identities.rs).
oidc-continue-with = Continue with { $provider }
oidc-or-email = or with your e-mail
oidc-back-to-sign-in = Back to sign-in
oidc-refused-title = Signing in with { $provider } did not work
oidc-refused-state = This sign-in was not started here, or took too long. Start again from the sign-in page.
oidc-refused-cancelled = You cancelled signing in with { $provider }. Nothing was changed.
oidc-refused-provider-error = { $provider } refused the sign-in. Try again, or sign in with your e-mail.
oidc-refused-unavailable = { $provider } cannot be reached right now. Try again in a few minutes, or sign in with your e-mail.
oidc-refused-exchange = { $provider } did not confirm this sign-in. Start again from the sign-in page.
oidc-refused-token = The answer from { $provider } failed our security checks, so you are not signed in. Start again; if it happens again, tell us.
oidc-refused-unverified = { $provider } has not confirmed your e-mail address, so no account can be made with it. Confirm it with { $provider }, or create an account with your e-mail and a password.
oidc-refused-no-email = { $provider } did not give us an e-mail address, so no account can be made with it. Create an account with your e-mail and a password.
oidc-refused-held = This { $provider } account already signs in to another AstroGrowth account. Sign in with it there, or unlink it there first.
oidc-link-title = Link your { $provider } account
oidc-link-why = An account with this e-mail already exists. To make sure it is yours, sign in with its password once: your { $provider } account is then linked, and signs you in from now on.
oidc-link-submit = Sign in and link { $provider }
oidc-link-other-way = Your account has no password yet? Sign in the way you usually do, then link { $provider } from your profile; or set a password with "Forgot your password?".
identities-title = Ways to sign in
identities-password = Password
identities-password-set = Set
identities-password-none = No password yet: set one
identities-link = Link { $provider }
identities-unlink = Unlink { $provider }
identities-last = Your only way in: it cannot be removed
identities-notice-linked = The account is linked: you can sign in with it.
identities-notice-unlinked = The account is unlinked: it no longer signs you in.
identities-notice-last = That is your last way in: set a password or link another account first.
