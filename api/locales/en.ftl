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
campaign-status-help-generating = We are writing posts. You will approve them before they are published.
campaign-status-help-ready = Posts are ready: approve the ones you like.
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

## Admin: queues (issue 11, the admin slice: overview, workers, jobs, actions, audit)
admin-title = Queues
admin-intro = Jobs waiting, running, scheduled and failed, per queue.
admin-nav-label = Admin sections
admin-nav-overview = Overview
admin-nav-workers = Workers
admin-nav-audit = Audit log
admin-find-label = Find a job by its id
admin-find = Find
admin-find-missing = No job has the id { $id } (it may have completed).
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
admin-delayed = Delayed
admin-retrying = Retrying
admin-deferred = Deferred
admin-dead = Failed
admin-lag = Lag
admin-last-hour = Last hour
admin-actions = Actions
admin-paused = paused
admin-hour-counts = { $processed } done · { $failed } failed
admin-pause = Pause
admin-resume = Resume
admin-columns-help = Lag: how long the oldest ready job has waited. Delayed, retrying and deferred jobs wait in the scheduled set until their time.
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
