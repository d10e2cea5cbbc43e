# Français. Chaque clé doit aussi être dans en.ftl (un test le vérifie) ; les pages
# n'affichent aucun texte qui ne soit dans ces deux fichiers.

brand = AstroGrowth
nav-label = Menu principal
nav-home = Accueil
nav-admin = Files d'attente
nav-contents = Publications
nav-new-campaign = Nouvelle campagne
# Le sélecteur nomme l'autre langue dans cette langue.
nav-switch-language = English
nav-sign-out = Se déconnecter

## Erreurs affichées au navigateur, sous forme de pages
error-code = Erreur { $status }
error-back-home = Retour à l'accueil
error-not-found-title = Page introuvable
error-not-found-body = Cette page n'existe pas, ou elle ne vous appartient pas.
error-expired-title = Ce formulaire a expiré
error-expired-body = Revenez en arrière, rechargez la page et réessayez.
error-forbidden-title = Accès refusé
error-forbidden-body = Votre compte ne peut pas ouvrir cette page.
error-busy-title = Un peu de patience
error-busy-body = Vous avez envoyé beaucoup de demandes en peu de temps. Attendez une minute, puis réessayez.
error-unavailable-title = Momentanément indisponible
error-unavailable-body = Un service dont nous dépendons ne répond pas. Réessayez dans quelques minutes.
error-internal-title = Un problème est survenu
error-internal-body = C'est de notre faute, et nous avons été prévenus. Réessayez dans quelques minutes.
error-bad-request-title = Nous n'avons pas pu lire cette demande
error-bad-request-body = Revenez en arrière, vérifiez ce que vous avez saisi et réessayez.

## Connexion, inscription
sign-in-title = Connexion
sign-in-submit = Se connecter
sign-in-wrong = L'e-mail ou le mot de passe est incorrect.
sign-in-throttled = Trop de tentatives. Attendez quelques minutes, puis réessayez.
sign-in-no-account = Pas encore de compte ?
sign-in-to-sign-up = Créer un compte
sign-up-title = Créez votre compte
sign-up-intro = Trouvez des commerces près de chez vous et publiez sur LinkedIn à leur sujet, en quelques clics.
sign-up-submit = Créer mon compte
sign-up-done = Votre compte est prêt (si cet e-mail n'en avait pas déjà un). Connectez-vous avec votre mot de passe.
sign-up-have-account = Vous avez déjà un compte ?
sign-up-to-sign-in = Se connecter
field-name = Votre nom
field-email = E-mail
field-password = Mot de passe
field-password-hint = Au moins 10 caractères.

## Validation, affichée à côté du champ
invalid-required = Veuillez remplir ce champ.
invalid-too-long = C'est trop long : { $max } caractères au maximum.
invalid-control-characters = Ce texte contient des caractères non autorisés.
invalid-invisible-formatting = Ce texte contient des caractères de mise en forme invisibles ; veuillez le retaper.
invalid-email = Cette adresse e-mail n'est pas valide.
invalid-password-short = Le mot de passe doit contenir au moins { $min } caractères.
invalid-password-long = Le mot de passe peut contenir { $max } caractères au maximum.
invalid-website = Saisissez une adresse commençant par http:// ou https://.

## Accueil
home-title = Votre tableau de bord
home-posts = Mes publications
home-new-campaign = Nouvelle campagne
home-kpis = Chiffres clés
home-engagement-missing = Les réactions restent vides : votre connexion LinkedIn ne permet pas de lire les statistiques de vos publications. Il faut pour cela que LinkedIn approuve cette application pour les statistiques des publications (Community Management API). Une fois que votre administrateur l'a obtenu et a activé les statistiques, connectez LinkedIn à nouveau.
home-engagement-missing-action = Aller à votre profil
kpi-leads = Commerces trouvés
kpi-contents = Publications rédigées
kpi-published = Publications en ligne
kpi-engagement = Réactions
attention-title = À traiter
attention-pending = { $count ->
    [one] Une publication attend votre validation.
   *[other] { $count } publications attendent votre validation.
}
attention-pending-action = Voir →
attention-reconnect = LinkedIn a déconnecté votre compte : reconnectez-le pour que vos publications partent.
attention-none = Rien à faire pour le moment.
recent-title = Campagnes récentes
recent-empty = Vous n'avez pas encore de campagne. Une campagne trouve des commerces dans une ville et rédige des publications à leur sujet.
recent-empty-action = Lancer ma première campagne
campaign-target = { $industry } · { $city }
campaign-leads-count = { $count ->
    [one] 1 commerce
   *[other] { $count } commerces
}

## Statuts
status-draft = Brouillon
status-scraping = Recherche
status-enriching = Analyse
status-generating = Rédaction
status-ready = Prête
status-completed = Terminée
status-error = Problème
status-cancelled = Annulée
status-pending = À valider
status-approved = Validée
status-rejected = Refusée
status-published = Publiée
status-failed = Échec
campaign-status-help-draft = Cette campagne n'a pas encore démarré.
campaign-status-help-scraping = Nous cherchons des commerces. Ceux déjà trouvés sont listés ci-dessous.
campaign-status-help-enriching = Nous en apprenons plus sur les commerces trouvés.
campaign-status-help-generating = Nous rédigeons les publications. Celles qui obtiennent une bonne note se valident seules une fois LinkedIn connecté ; vous décidez des autres.
campaign-status-help-ready = Toutes les publications sont rédigées. Ci-dessous : celles qui vous attendent, celles qui sont planifiées.
campaign-status-help-completed = Cette campagne est terminée.
campaign-status-help-error = Un problème a arrêté cette campagne. Nous avons été prévenus.
campaign-status-help-cancelled = Cette campagne a été annulée.

## Assistant de nouvelle campagne
wizard-title = Nouvelle campagne
wizard-step = Étape { $step } sur { $steps }
wizard-name-question = Comment appeler cette campagne ?
wizard-name-label = Nom de la campagne
wizard-name-hint = Vous seul le voyez, par exemple « Boulangeries du printemps ».
wizard-industry-question = Quel type de commerce cherchez-vous ?
wizard-industry-label = Type de commerce
wizard-industry-hint = Par exemple : boulangerie, coiffeur, plombier.
wizard-city-question = Dans quelle ville ?
wizard-city-label = Ville ou quartier
wizard-city-hint = Par exemple : Lyon, ou Paris 11e.
wizard-back = Retour
wizard-cancel = Annuler
wizard-next = Suivant
wizard-launch = Lancer la campagne
launched-title = Campagne lancée ! Nous vous tiendrons au courant.
launched-body = « { $name } » cherche des commerces dès maintenant. Vous pouvez fermer cette page : nous vous préviendrons quand des publications seront prêtes à valider.
launched-see-campaign = Suivre la campagne
launched-home = Retour à l'accueil

## Page d'une campagne
leads-title = Commerces trouvés
leads-empty = Aucun commerce trouvé pour l'instant.
leads-business = Commerce
leads-city = Ville
leads-rating = Note
leads-score = Score
leads-not-scored = en cours
contents-title = Publications
contents-empty = Aucune publication rédigée pour l'instant.
contents-score = Qualité { $score }/100

## Admin : files d'attente
admin-title = Files d'attente
admin-intro = Tâches en attente, en cours, planifiées et en échec, par file.
admin-nav-label = Sections de l'administration
admin-nav-overview = Vue d'ensemble
admin-nav-workers = Workers
admin-nav-audit = Journal des actions
admin-find-label = Trouver une tâche par son identifiant
admin-find = Trouver
admin-find-missing = Aucune tâche n'a l'identifiant { $id } (elle est peut-être terminée).
admin-misconfigured-heading = Intervention requise : { $provider } ne reconnaît pas l'un de nos réglages
admin-misconfigured-fix = Corrigez { $setting }, puis redémarrez les workers. Les contenus en attente reprennent d'eux-mêmes dans les 10 minutes ; rien n'est publié sans son image entre-temps.
admin-misconfigured-seen = Constaté pour la dernière fois { $at }.
admin-queues-heading = Files
admin-live-workers = { $count ->
    [0] Aucun worker ne tourne.
    [one] Un worker tourne.
   *[other] { $count } workers tournent.
}
admin-see-workers = Voir les workers
admin-no-queues = Aucune file n'a encore servi.
admin-queue = File
admin-ready = Prêtes
admin-in-flight = En cours
admin-scheduled = Planifiées
admin-retrying = À réessayer
admin-deferred = Reportées
admin-dead = En échec
admin-lag = Retard
admin-last-hour = Dernière heure
admin-actions = Actions
admin-paused = en pause
admin-pause = Mettre en pause
admin-resume = Reprendre
admin-columns-help = Retard : depuis combien de temps la plus ancienne tâche prête attend. Planifiées : toutes les tâches qui attendent leur heure, celles à réessayer et reportées (les deux colonnes suivantes) comprises ; son lien les liste. Les tâches prêtes comprennent celles qui attendent le tour de leur propriétaire.
admin-owners-heading = Propriétaires
admin-owners-intro = Les propriétaires passent chacun leur tour dans chaque file : pendant qu'un gros arriéré s'écoule, les tâches d'un autre propriétaire prennent le prochain créneau libre au lieu d'attendre derrière. Les propriétaires les plus actifs de chaque file :
admin-owner = Propriétaire
admin-owner-gone = compte supprimé (n° { $id })
admin-owner-running = En cours
admin-owner-waiting = En attente de leur tour
admin-charts-heading = Les { $hours } dernières heures, minute par minute
admin-chart-throughput = Tâches terminées
admin-chart-failures = Tentatives en échec
admin-chart-summary = { $total } au total ; au plus { $peak } en une minute, à { $at } UTC.
admin-chart-empty = Aucune sur cette période.
admin-chart-table = Afficher sous forme de tableau
admin-chart-from = À partir de (UTC)
admin-notice-retried = La tâche est de retour dans sa file.
admin-notice-discarded = La tâche a été supprimée.
admin-notice-run-now = La tâche va être exécutée dans un instant.
admin-notice-gone = Cette tâche n'est plus là : quelqu'un ou quelque chose s'en est déjà occupé.
admin-notice-unique-held = La tâche reste en échec : la même tâche est déjà de nouveau en file.
admin-notice-bulk-retried = { $count ->
    [0] Plus aucune tâche n'était à relancer.
    [one] Une tâche est de retour dans sa file.
   *[other] { $count } tâches sont de retour dans leur file.
}
admin-notice-bulk-discarded = { $count ->
    [0] Plus aucune tâche n'était à supprimer.
    [one] Une tâche a été supprimée.
   *[other] { $count } tâches ont été supprimées.
}
admin-notice-paused = La file est en pause : les workers n'y prennent plus de nouvelle tâche.
admin-notice-resumed = La file tourne de nouveau.
admin-back = ← Toutes les files
admin-jobs-title-dead = Tâches en échec dans { $queue }
admin-jobs-title-ready = Tâches prêtes dans { $queue }
admin-jobs-title-running = Tâches en cours dans { $queue }
admin-jobs-title-scheduled = Tâches planifiées dans { $queue }
admin-pause-queue = Mettre cette file en pause
admin-resume-queue = Reprendre cette file
admin-queue-paused-help = En pause : les workers ne prennent plus de nouvelle tâche dans cette file.
admin-states-label = Tâches par état
admin-state-dead = En échec
admin-state-ready = Prêtes
admin-state-running = En cours
admin-state-scheduled = Planifiées
admin-filter-kind = Type
admin-filter-user = Identifiant utilisateur
admin-filter-user-invalid = Un identifiant utilisateur est un nombre entier, comme 42.
admin-filter-too-long = Cette recherche est trop longue.
admin-filter-text = Texte dans les arguments
admin-filter-submit = Rechercher
admin-filter-clear = Effacer
admin-bulk-matching = Toutes les tâches en échec qui correspondent à cette recherche :
admin-bulk-all = Toutes les tâches en échec de cette file :
admin-bulk-retry = Les relancer…
admin-bulk-discard = Les supprimer…
admin-scan-budget = { $scanned } tâches parcourues, des plus récentes aux plus anciennes ; { $found } trouvées pour l'instant.
admin-scan-continue = Chercher dans les suivantes
admin-jobs-none-matching = Aucune tâche ne correspond à cette recherche.
admin-jobs-empty-dead = Aucune tâche en échec dans cette file.
admin-jobs-empty-ready = Aucune tâche n'attend dans cette file.
admin-jobs-empty-running = Aucune tâche de cette file n'est en cours.
admin-jobs-empty-scheduled = Aucune tâche de cette file n'est planifiée.
admin-dead-meta = Tentative { $attempt } sur { $max }, échec le { $when }
admin-scheduled-meta = Prévue le { $when } · { $attempt } tentative(s) sur { $max } utilisée(s)
admin-enqueued-meta = En file depuis le { $when } · { $attempt } tentative(s) sur { $max } utilisée(s)
admin-user = utilisateur { $id }
admin-deferred-because = En attente : { $reason }
admin-retry = Relancer
admin-run-now = Exécuter maintenant
admin-discard = Supprimer
admin-first-page = ← Première page
admin-job-title = Tâche { $kind }
admin-back-to-dead = ← Tâches en échec dans { $queue }
admin-back-to-ready = ← Tâches prêtes dans { $queue }
admin-back-to-running = ← Tâches en cours dans { $queue }
admin-back-to-scheduled = ← Tâches planifiées dans { $queue }
admin-job-state = État
admin-job-attempts = Tentatives utilisées
admin-job-attempts-value = { $attempt } sur { $max }
admin-job-user = Identifiant utilisateur
admin-job-enqueued = Mise en file
admin-job-run-at = Prochaine exécution
admin-job-died = Échec définitif
admin-job-worker = Tenue par
admin-job-idle = depuis { $idle }
admin-job-unique = Clé d'unicité
admin-job-deferred = Reportée
admin-job-deferred-text = { $reason } — nouvel essai le { $until } ({ $count ->
    [one] reportée une fois
   *[other] reportée { $count } fois de suite
}).
admin-job-errors = Erreurs, de la plus récente à la plus ancienne
admin-job-no-errors = Aucune erreur pour l'instant.
admin-job-error-meta = Tentative { $attempt }, le { $when }
admin-job-args = Arguments
admin-job-args-help = Les valeurs dont le nom ressemble à un secret (jeton, mot de passe, clé…) sont masquées.
admin-confirm-title-retry = Relancer des tâches en échec ?
admin-confirm-title-discard = Supprimer des tâches en échec ?
admin-confirm-count-retry = { $count ->
    [0] Aucune tâche en échec de { $queue } ne correspond : rien à relancer.
    [one] Une tâche en échec de { $queue } va retourner dans sa file.
   *[other] { $count } tâches en échec de { $queue } vont retourner dans leur file.
}
admin-confirm-count-discard = { $count ->
    [0] Aucune tâche en échec de { $queue } ne correspond : rien à supprimer.
    [one] Une tâche en échec de { $queue } va être supprimée définitivement.
   *[other] { $count } tâches en échec de { $queue } vont être supprimées définitivement.
}
admin-confirm-count-partial-retry = Au moins { $count } tâches en échec de { $queue } correspondent ; toutes celles qui correspondent vont retourner dans leur file.
admin-confirm-count-partial-discard = Au moins { $count } tâches en échec de { $queue } correspondent ; toutes celles qui correspondent vont être supprimées définitivement.
admin-confirm-scan-budget = Compté parmi les { $scanned } tâches en échec les plus récentes seulement : de plus anciennes peuvent aussi correspondre.
admin-confirm-button-all-retry = Relancer toutes celles qui correspondent
admin-confirm-button-all-discard = Supprimer toutes celles qui correspondent
admin-confirm-no-filter = Aucun filtre : cela concerne toutes les tâches en échec de la file.
admin-confirm-help-retry = Leurs tentatives repartent de zéro. Les tâches qui échoueront à partir de maintenant ne sont pas concernées.
admin-confirm-help-discard = C'est définitif. Les tâches qui échoueront à partir de maintenant ne sont pas concernées.
admin-confirm-button-retry = { $count ->
    [one] Relancer 1 tâche
   *[other] Relancer { $count } tâches
}
admin-confirm-button-discard = { $count ->
    [one] Supprimer 1 tâche
   *[other] Supprimer { $count } tâches
}
admin-confirm-cancel = Annuler
admin-workers-title = Workers
admin-workers-intro = Les processus worker qui ont donné signe de vie ces dernières secondes.
admin-workers-none = Aucun worker ne tourne.
admin-worker-host = { $host }, processus { $pid }
admin-worker-beat = dernier signe de vie il y a { $age }
admin-worker-started = démarré le { $when }
admin-worker-concurrency = Places
admin-worker-busy = Occupées
admin-worker-running = Tâches en cours
admin-worker-runtime = depuis { $runtime }
admin-audit-title = Journal des actions
admin-audit-intro = Chaque action sur les files : qui, quoi, quand, et sur combien de tâches.
admin-audit-empty = Aucune action pour l'instant.
admin-audit-when = Quand (UTC)
admin-audit-who = Qui
admin-audit-what = Quoi
admin-audit-target = Tâche ou filtre
admin-audit-count = Tâches
admin-audit-every-job = toutes les tâches
admin-action-retry = A relancé une tâche
admin-action-discard = A supprimé une tâche
admin-action-run_now = A exécuté une tâche sans attendre
admin-action-retry_matching = A relancé des tâches en échec
admin-action-discard_matching = A supprimé des tâches en échec
admin-action-pause = A mis la file en pause
admin-action-resume = A repris la file

## Galerie des publications
gallery-title = Vos publications
gallery-intro = Validez les publications qui vous plaisent : elles partent sur LinkedIn. Refusez les autres.
gallery-filters = Afficher
gallery-filter-pending = À valider
gallery-filter-approved = Validées
gallery-filter-published = Publiées
gallery-filter-rejected = Refusées
gallery-filter-failed = En échec
gallery-filter-all = Toutes
gallery-empty = Aucune publication ici.
gallery-count = { $count ->
    [one] Une publication.
   *[other] { $count } publications.
}
gallery-see-campaign = Sa campagne
gallery-approve = Valider
gallery-reject = Refuser
gallery-done-approved = Validée : elle va être publiée sur LinkedIn.
gallery-done-approved-waiting = Validée. Connectez LinkedIn pour qu'elle puisse partir.
gallery-done-rejected = Refusée : elle ne sera pas publiée.
gallery-done-already-decided = Cette publication avait déjà été traitée.
gallery-pages = Pages
gallery-page = Page { $page } sur { $pages }
gallery-previous = ← Précédente
gallery-next = Suivante →

## Avancement en direct, détail des scores, filtres et modification des publications
kpi-enriched = Commerces analysés
leads-skipped = Mis de côté : pas de publication pour celui-ci.
live-title = En direct
live-intro = Cette liste suit la campagne pendant qu'elle avance, sans recharger la page.
live-event-status = Campagne : { $status }
live-event-leads-found = { $count ->
    [one] Un commerce trouvé
   *[other] { $count } commerces trouvés
}
live-event-lead-enriched = { $name } analysé : score { $score }/100
live-event-lead-enriched-unnamed = Un commerce analysé : score { $score }/100
live-event-content-generated = Publication rédigée pour { $name } : qualité { $score }/100
live-event-content-generated-unnamed = Une publication rédigée : qualité { $score }/100
live-event-published = Une publication est en ligne sur LinkedIn.
live-event-published-link = La voir
live-event-failed-lead = { $name } mis de côté : { $reason }
live-event-failed-content = Une publication n'a pas pu partir : { $reason }
live-event-failed-unknown = LinkedIn n'a pas confirmé une publication : regardez votre page LinkedIn avant de réessayer.
live-event-failed = Un problème est survenu : { $reason }
live-event-deferred = En pause : { $reason }
live-event-deferred-until = En pause : { $reason }, nouvel essai à { $time }
live-reason-none = sans raison précisée
live-reason-reconnect = LinkedIn vous demande de reconnecter votre compte
live-reason-daily-limit = limite du jour atteinte chez { $provider }
live-reason-quota = quota du jour épuisé chez { $provider }
live-reason-rate-limit = trop de demandes envoyées à { $provider }
live-reason-busy = { $provider } ne répond pas pour le moment
live-provider-enrichment = l'analyse des commerces
live-provider-images = la création d'images
score-why-lead = Pourquoi { $score } ?
score-why-content = Pourquoi { $score }/100 ?
score-points = { $points }/{ $max }
score-signal-website = Site web
score-signal-website_reachable = Site en ligne
score-signal-email = E-mail
score-signal-phone = Téléphone
score-signal-rating = Note
score-signal-reviews = Avis
score-signal-address = Adresse
score-signal-length = Longueur
score-signal-names_business = Cite le commerce
score-signal-names_city = Cite la ville
score-signal-hashtags = Hashtags
score-signal-image = Image
score-signal-call_to_action = Appel à l'action
score-signal-clean = Prête à publier
score-detail-no-website = Aucun site indiqué
score-detail-site-answered = Le site a répondu
score-detail-site-silent = Le site n'a pas répondu
score-detail-no-email = Aucun e-mail trouvé
score-detail-no-phone = Aucun téléphone trouvé
score-detail-no-rating = Pas encore de note
score-detail-no-reviews = Pas encore d'avis
score-detail-full-address = Rue, ville et code postal
score-detail-address-incomplete = Adresse incomplète
score-detail-business-not-named = Le commerce n'est pas cité
score-detail-city-not-named = La ville n'est pas citée
score-detail-image = Une image accompagne la publication
score-detail-no-image = Pas d'image
score-detail-asks-question = Pose une question au lecteur
score-detail-no-call-to-action = Ne propose rien au lecteur
score-detail-no-leftovers = Aucun texte provisoire oublié
score-detail-reviews = { $count ->
    [one] Un avis
   *[other] { $count } avis
}
score-detail-characters = { $count } caractères
score-detail-hashtags = { $count ->
    [one] Un hashtag
   *[other] { $count } hashtags
}
score-detail-stars = { $value } étoiles
score-detail-asks-to = Invite le lecteur : « { $value } »
score-detail-leftover = Texte provisoire oublié : « { $value } »
gallery-filter-status = Statut
gallery-filter-campaign = Campagne
gallery-filter-any-campaign = Toutes les campagnes
gallery-filter-min-score = Qualité minimale
gallery-filter-apply = Afficher
gallery-min-score-invalid = Indiquez un nombre entre 0 et 100.
gallery-image-alt = L'image qui accompagne cette publication
gallery-edit = Modifier le texte
gallery-edit-label = Texte de la publication
gallery-edit-hint = { $max } caractères au maximum. Les hashtags restent les mêmes.
gallery-edit-save = Enregistrer le texte
gallery-done-edited = Texte enregistré. Validez la publication quand elle vous convient.
toast-close = Fermer ce message

## Profil, graphiques de l'accueil et « à traiter »
nav-profile = Profil
home-done-marked-published = Merci : la publication est marquée comme publiée.
home-done-published-again = Elle va être publiée de nouveau dans un instant.
home-done-already-resolved = Cette publication avait déjà été réglée.
attention-reconnect-action = Reconnecter →
attention-linkedin-expires = { $days ->
    [one] Votre connexion LinkedIn expire dans { $days } jour — reconnectez-la pour continuer à publier.
   *[other] Votre connexion LinkedIn expire dans { $days } jours — reconnectez-la pour continuer à publier.
}
attention-unknown = LinkedIn n'a pas confirmé si cette publication est partie ({ $date }). Vérifiez votre page LinkedIn, puis dites-le-nous :
attention-unknown-more = { $count ->
    [one] Une autre publication est à vérifier : elle s'affichera ensuite ici.
   *[other] { $count } autres publications sont à vérifier : elles s'afficheront ensuite ici.
}
resolve-url-label = Elle est sur LinkedIn : collez son adresse
resolve-url-placeholder = https://www.linkedin.com/feed/update/…
resolve-url-hint = Sur LinkedIn, ouvrez la publication, puis copiez l'adresse dans votre navigateur.
resolve-mark-published = Elle est publiée
resolve-not-there = Elle n'est pas sur LinkedIn ?
resolve-publish-again = La publier de nouveau
resolve-url-required = Collez l'adresse de la publication sur LinkedIn.
resolve-url-invalid = Ce n'est pas l'adresse d'une publication LinkedIn. Elle ressemble à https://www.linkedin.com/feed/update/urn:li:share:…
resolve-url-taken = Cette publication LinkedIn est déjà enregistrée pour une autre publication. Collez l'adresse de celle-ci.
charts-title = Les 30 derniers jours
charts-period = par jour, sur les 30 derniers jours
chart-leads-title = Commerces trouvés
chart-contents-title = Publications rédigées
chart-published-title = Publications en ligne
chart-desc = { $total } au total ; le jour le plus chargé a été le { $date }, avec { $best }.
chart-desc-empty = Aucune sur les 30 derniers jours.
chart-bar = { $date } : { $value }
charts-table-caption = Les 30 derniers jours, jour par jour
charts-table-day = Jour
date-day-month = { $day } { $month ->
    [1] janv.
    [2] févr.
    [3] mars
    [4] avr.
    [5] mai
    [6] juin
    [7] juil.
    [8] août
    [9] sept.
    [10] oct.
    [11] nov.
   *[12] déc.
}
date-full = { $day } { $month ->
    [1] janvier
    [2] février
    [3] mars
    [4] avril
    [5] mai
    [6] juin
    [7] juillet
    [8] août
    [9] septembre
    [10] octobre
    [11] novembre
   *[12] décembre
} { $year }
profile-title = Votre profil
profile-intro = Votre entreprise, votre langue, et le compte LinkedIn depuis lequel partent vos publications.
profile-notice-connected = LinkedIn est connecté. Les publications validées vont maintenant partir.
profile-notice-cancelled = LinkedIn n'a pas été connecté : l'autorisation a été annulée.
profile-notice-refused = LinkedIn a refusé la connexion.
profile-refusal-said = Réponse de LinkedIn :
profile-refusal-scope = Cette application demande à LinkedIn une permission pour laquelle son application LinkedIn n'est pas approuvée. Prévenez votre administrateur : soit LinkedIn approuve l'application pour cette permission, soit les statistiques des publications sont désactivées dans la configuration. Connectez-vous ensuite à nouveau.
profile-notice-failed = La connexion à LinkedIn n'a pas abouti. Réessayez dans quelques minutes.
profile-notice-unavailable = La connexion à LinkedIn n'est pas disponible pour le moment. Réessayez plus tard.
profile-notice-disconnected = LinkedIn est déconnecté. Rien ne sera publié tant que vous ne l'aurez pas reconnecté.
profile-notice-saved = Votre profil est enregistré.
profile-linkedin-title = LinkedIn
profile-linkedin-connected = Connecté
profile-linkedin-reconnect = À reconnecter
profile-linkedin-disconnected = Non connecté
profile-linkedin-why = Connectez votre compte LinkedIn pour que les publications que vous validez soient publiées.
profile-linkedin-member = Publie en tant que
profile-linkedin-expires = Connexion valable jusqu'au
profile-linkedin-days-left = { $days ->
    [one] encore { $days } jour
   *[other] encore { $days } jours
}
profile-linkedin-reconnect-why = LinkedIn n'accepte plus cette connexion. Reconnectez-la pour que vos publications validées partent.
profile-linkedin-renew = LinkedIn demande de vous reconnecter tous les 60 jours ; nous vous le rappellerons une semaine avant.
profile-linkedin-connect = Connecter LinkedIn
profile-linkedin-reconnect-action = Reconnecter LinkedIn
profile-linkedin-not-available = La connexion à LinkedIn n'est pas disponible sur ce serveur.
profile-linkedin-disconnect = Déconnecter
profile-details-title = Votre entreprise
profile-details-intro = Le nom et l'activité de votre entreprise nous aident à écrire des publications qui vous ressemblent. Tous les champs sont facultatifs.
profile-field-business_name = Nom de l'entreprise
profile-field-business_type = Activité
profile-field-location = Ville ou quartier
profile-field-phone = Téléphone
profile-field-website = Site web
profile-hint-business_name = Tel que vos clients le connaissent.
profile-hint-business_type = Par exemple : boulangerie, salon de coiffure, plombier.
profile-hint-location = Par exemple : Lyon, ou Paris 11e.
profile-hint-phone = N'apparaît pas dans vos publications.
profile-hint-website = Commence par https://
profile-language = Langue des pages
profile-language-hint = Enregistrée sur votre compte : tous les appareils où vous vous connectez l'utilisent.
language-name-fr = Français
language-name-en = English
profile-save = Enregistrer
disconnect-title = Déconnecter LinkedIn ?
disconnect-member = Compte : { $name }
disconnect-body = Nous oublierons la connexion. Les publications validées attendront que vous reconnectiez LinkedIn ; rien n'est supprimé sur LinkedIn.
disconnect-confirm = Oui, déconnecter
disconnect-cancel = Annuler

# Pourquoi quelque chose s'est arrêté sans résultat (pages/reasons.rs) ; le détail enregistré suit.
reason-no-business = Google Places n'a trouvé aucun commerce pour cette recherche. Essayez une ville voisine ou une autre formulation de l'activité.
reason-refused = { $provider } a refusé la demande, et la refaire donnerait la même réponse.
reason-waited = { $provider } nous a fait attendre trop longtemps : nous avons arrêté d'attendre.
reason-attempts = { $provider } a échoué à chaque essai : nous avons arrêté après plusieurs tentatives.
reason-reconnect = LinkedIn vous demande de reconnecter votre compte ; publiez ensuite la publication à nouveau.
reason-outcome-unknown = LinkedIn n'a pas dit si la publication est partie. Vérifiez votre page LinkedIn, puis marquez-la publiée ou publiez-la à nouveau.
reason-same-text = LinkedIn a déjà une publication avec exactement ce texte : modifiez le texte et publiez à nouveau.
reason-no-image = L'image n'a pas pu être créée : la publication continue sans image.
reason-model-declined = Gemini a refusé d'écrire cette publication.
reason-other = Un problème est survenu.
reason-provider-unnamed = le service
reason-details = Détails :
reason-foreign-mention = La publication mentionne un lien, une adresse ou un compte qui n'est pas le vôtre : vérifiez-la avant de l'approuver.

## La page du calendrier de publication (pages/schedule.rs)
nav-schedule = Calendrier
schedule-title = Calendrier de publication
schedule-intro = Les posts approuvés partent un par créneau, dans votre fuseau horaire, pour ne pas inonder votre réseau.
schedule-slots-title = Vos créneaux de publication
schedule-immediate = Les posts sont pour l'instant publiés dès leur approbation. Enregistrer des créneaux ici y met fin.
schedule-time-zone = Fuseau horaire
schedule-time-zone-help = Un nom IANA, comme Europe/Paris ou America/Montreal.
schedule-days = Jours
schedule-day-1 = Lundi
schedule-day-2 = Mardi
schedule-day-3 = Mercredi
schedule-day-4 = Jeudi
schedule-day-5 = Vendredi
schedule-day-6 = Samedi
schedule-day-7 = Dimanche
schedule-times = Heures
schedule-times-help = Séparées par des virgules, comme 09:00, 14:00.
schedule-per-day = Posts par jour au plus
schedule-per-day-help = De 1 à 100 (la limite de LinkedIn).
schedule-save = Enregistrer les créneaux
schedule-error-time-zone = Ce fuseau horaire est inconnu : écrivez son nom IANA, comme Europe/Paris ou America/Montreal.
schedule-error-days = Cochez au moins un jour.
schedule-error-times = Écrivez des heures comme 09:00, 14:00, séparées par des virgules (24 au plus).
schedule-error-per-day = Choisissez entre 1 et 100 posts par jour.
schedule-upcoming = À venir
schedule-empty = Aucun post approuvé n'attend. Les posts que vous approuvez prennent le prochain créneau libre.
schedule-unscheduled = Hors calendrier
schedule-started = En cours de publication : il ne peut plus être déplacé.
schedule-publish-now = Publier maintenant
schedule-move-to = Déplacer vers
schedule-move = Déplacer
schedule-put-back = Planifier
schedule-unschedule = Retirer
schedule-done-saved = Créneaux enregistrés : les posts en attente ont pris leurs nouveaux créneaux.
schedule-done-published-now = Il part dans quelques secondes. Vous changez d'avis ? Annulez maintenant.
schedule-done-moved = Déplacé.
schedule-done-unscheduled = Retiré du calendrier : il attend que vous le planifiiez à nouveau.
schedule-done-started = Sa publication avait déjà commencé : il n'a pas été modifié.
schedule-done-slot-taken = Ce créneau n'est plus libre : choisissez-en un autre.
content-scheduled-for = Prévu le { $when }

# L'export CSV des commerces (routes/leads_csv.rs) : en-têtes de colonnes et lien de la page campagne.
export-column-name = Commerce
export-column-address = Adresse
export-column-city = Ville
export-column-phone = Téléphone
export-column-email = E-mail
export-column-website = Site web
export-column-rating = Note
export-column-score = Score
export-column-reasons = Pourquoi ce score
export-leads-link = Télécharger les commerces (CSV)

# Mot de passe oublié (pages/password_reset.rs) et le lien de la page de connexion.
forgot-link = Mot de passe oublié ?
forgot-title = Mot de passe oublié
forgot-intro = Indiquez l'e-mail de votre compte : nous vous envoyons un lien pour choisir un nouveau mot de passe, valable 30 minutes.
forgot-submit = M'envoyer un lien
forgot-sent = Si cet e-mail a un compte, un lien est en route. Il sert une fois, pendant 30 minutes. Regardez dans les indésirables s'il n'arrive pas.
forgot-back = Retour à la connexion
forgot-throttled = Trop de demandes pour le moment. Patientez un peu, puis réessayez.
reset-title = Choisir un nouveau mot de passe
reset-intro = Votre nouveau mot de passe vous déconnecte de tous vos appareils ; connectez-vous ensuite avec lui.
field-new-password = Nouveau mot de passe
reset-submit = Enregistrer mon nouveau mot de passe
reset-invalid = Ce lien ne fonctionne plus : il a déjà servi, ou ses 30 minutes sont passées.
reset-ask-again = Demander un nouveau lien
reset-done = Votre mot de passe est changé et toutes les sessions sont fermées. Connectez-vous avec votre nouveau mot de passe.

# Les avis envoyés par e-mail (pages/notices.rs), sur la page profil.
notices-title = Avis par e-mail
notices-intro = Nous vous écrivons quand quelque chose a besoin de vous. Décochez ce que vous ne voulez pas recevoir.
notices-kind-approvals_waiting = Des publications attendent mon accord
notices-kind-linkedin_reconnect = LinkedIn doit être reconnecté, ou expire dans les 7 jours
notices-kind-campaign_error = Une campagne s'est arrêtée sur une erreur
notices-kind-publication_unknown = LinkedIn n'a pas dit si une publication est partie
notices-save = Enregistrer mes avis
notices-saved = Vos avis sont enregistrés.
profile-schedule-change = Modifier le calendrier

## Le parcours de la propriétaire : où en sont ses publications, ses premiers pas, le menu du
## téléphone, les heures avec leur fuseau (pages/post_counts.rs, pages/home.rs, pages/times.rs, base.html)
nav-menu = Menu
time-in-zone = { $time } (heure de { $city })
time-in-zone-name = { $time } ({ $zone })
time-zone-field-help = Tapez le nom de votre ville (Paris, Montreal…) et choisissez-la dans la liste.
counts-title = Vos publications
counts-campaign-title = Les publications de cette campagne
counts-to-approve = { $count ->
    [one] attend votre validation
   *[other] attendent votre validation
}
counts-generating = { $count ->
    [one] 1 autre en cours de rédaction
   *[other] { $count } autres en cours de rédaction
}
counts-scheduled = { $count ->
    [one] planifiée
   *[other] planifiées
}
counts-next = Prochaine : { $when }
counts-unscheduled = { $count ->
    [one] 1 retirée du calendrier
   *[other] { $count } retirées du calendrier
}
counts-published = { $count ->
    [one] publiée
   *[other] publiées
}
counts-needing = { $count ->
    [one] en échec ou à traiter
   *[other] en échec ou à traiter
}
campaign-cta-approve = { $count ->
    [one] Voir la publication qui attend votre validation
   *[other] Voir les { $count } publications qui attendent votre validation
}
campaign-cta-scheduled = { $count ->
    [one] Voir la publication planifiée
   *[other] Voir les { $count } publications planifiées
}
attention-connect = LinkedIn n'est pas connecté : connectez-le pour que vos publications partent.
attention-connect-waiting = { $count ->
    [one] Une publication validée attend LinkedIn : connectez-le pour qu'elle parte.
   *[other] { $count } publications validées attendent LinkedIn : connectez-le pour qu'elles partent.
}
attention-connect-action = Connecter LinkedIn →
attention-failed = { $count ->
    [one] Une publication n'a pas pu partir.
   *[other] { $count } publications n'ont pas pu partir.
}
attention-failed-action = Voir pourquoi →
attention-late = { $count ->
    [one] Une publication est en retard : LinkedIn nous fait attendre (une limite ou une panne). Elle part dès que possible.
   *[other] { $count } publications sont en retard : LinkedIn nous fait attendre (une limite ou une panne). Elles partent dès que possible.
}
attention-late-action = Voir le calendrier →
onboarding-title = Vos premiers pas
onboarding-progress = { $done } sur { $all } faits
onboarding-done = fait
onboarding-linkedin = Connecter votre compte LinkedIn
onboarding-business = Renseigner votre commerce
onboarding-schedule = Choisir votre fuseau horaire et vos heures de publication
onboarding-campaign = Lancer votre première campagne
onboarding-approved = Valider vos premières publications
gallery-empty-none = Vous n'avez pas encore de publication. Lancez une campagne : les publications qu'elle rédige apparaissent ici.
gallery-empty-pending = Aucune publication n'attend votre validation : celles qui obtiennent une bonne note se valident seules une fois LinkedIn connecté, et vous avez décidé des autres.
gallery-empty-approved = Aucune publication validée n'attend de partir.
gallery-empty-published = Aucune publication n'est encore partie : les publications validées partent aux heures de votre calendrier.
gallery-empty-rejected = Vous n'avez refusé aucune publication.
gallery-empty-failed = Aucune publication n'est en échec.
gallery-empty-all = Aucune publication ne correspond à ces filtres.
gallery-empty-score = Aucune publication ici n'a une qualité d'au moins { $min }.
gallery-empty-see-all = { $count ->
    [one] Voir votre seule publication
   *[other] Voir les { $count } publications
}

## Vue d'ensemble de l'admin : les échecs ressortent, le tableau dit qu'il défile sur un téléphone (admin_overview.html)
admin-hour-done = { $count } faites
admin-hour-failed = { $count ->
    [one] 1 échec
   *[other] { $count } échecs
}
admin-scroll-hint = Faites glisser le tableau pour voir toutes les colonnes.

## Instagram : la connexion sur la page du profil (Business Login for Instagram)
profile-instagram-title = Instagram
profile-instagram-why = Connectez votre compte Instagram professionnel (entreprise ou créateur) pour que les publications que vous validez pour Instagram y soient publiées.
profile-instagram-reconnect-why = Instagram n'accepte plus cette connexion. Reconnectez-la pour que vos publications validées partent sur Instagram.
profile-instagram-renew = Nous renouvelons nous-mêmes cette connexion avant la fin de ses 60 jours ; vous ne reconnectez que si Instagram la refuse.
profile-instagram-connect = Connecter Instagram
profile-instagram-reconnect-action = Reconnecter Instagram
profile-instagram-not-available = La connexion à Instagram n'est pas disponible sur ce serveur.
profile-instagram-notice-connected = Instagram est connecté. Les publications que vous validez pour Instagram y seront désormais publiées.
profile-instagram-notice-cancelled = Instagram n'a pas été connecté : vous avez annulé l'autorisation sur Instagram.
profile-instagram-notice-refused = Instagram a refusé la connexion.
profile-instagram-notice-failed = Instagram n'a pas pu être connecté. Réessayez dans quelques minutes.
profile-instagram-notice-unavailable = La connexion à Instagram n'est pas disponible pour le moment. Réessayez plus tard.
profile-instagram-notice-disconnected = Instagram est déconnecté. Rien n'y sera publié tant que vous ne le reconnectez pas.
profile-instagram-refusal-said = Réponse d'Instagram :
instagram-disconnect-title = Déconnecter Instagram ?
instagram-disconnect-account = Compte : @{ $name }
instagram-disconnect-body = Nous oublierons la connexion. Les publications validées pour Instagram attendront que vous le reconnectiez ; rien n'est supprimé sur Instagram.

## Previews, bulk review, undo, pause and the calendar (gallery and schedule pages)
undo = Annuler
preview-linkedin-label = Aperçu : le post tel que LinkedIn le montrera
preview-you = Vous, sur LinkedIn
preview-linkedin-when = Maintenant · Public
preview-see-more = voir plus
bulk-title = Revoir plusieurs posts d'un coup
bulk-at-least = Qualité d'au moins
bulk-approve-at-least = Tout approuver à partir de
bulk-approve-ticked = Approuver les posts cochés
bulk-reject-ticked = Refuser les posts cochés
bulk-help = Cochez des posts avec la case à côté de leur statut, puis approuvez-les ou refusez-les ensemble.
bulk-tick = Sélectionner ce post
gallery-done-bulk-approved = { $count ->
    [0] Aucun post approuvé : aucun n'attendait à cette qualité.
    [one] Un post approuvé : il prend le prochain créneau libre.
   *[other] { $count } posts approuvés : ils prennent les prochains créneaux libres.
}
gallery-done-bulk-rejected = { $count ->
    [0] Aucun post refusé.
    [one] Un post refusé.
   *[other] { $count } posts refusés.
}
gallery-done-unrejected = Refus annulé : le post vous attend de nouveau.
gallery-done-cannot-unreject = Ce refus ne peut plus être annulé.
schedule-done-undone = Annulé : le post est revenu à sa place.
schedule-done-paused = Toutes vos publications sont en pause.
schedule-done-resumed = Publications reprises : les posts en attente ont pris les prochains créneaux libres.
schedule-done-is-paused = Vos publications sont en pause : reprenez-les pour publier ce post maintenant.
schedule-done-too-late = Trop tard : sa publication avait déjà commencé.
pause-is-on = Les publications sont actives
pause-on-help = Les posts approuvés partent dans leurs créneaux. Mettez en pause pour tous les retenir.
pause-is-paused = Les publications sont en pause
pause-paused-help = En pause depuis { $since }. Aucun post ne part ; à la reprise, les posts en attente prennent les prochains créneaux libres.
pause-pause = Mettre toutes les publications en pause
pause-resume = Reprendre les publications
calendar-views = Vues du calendrier
calendar-view-list = Liste
calendar-view-week = Semaine
calendar-view-month = Mois
calendar-times-in = Heures dans votre fuseau : { $zone }.
calendar-previous-week = ← Semaine précédente
calendar-next-week = Semaine suivante →
calendar-previous-month = ← Mois précédent
calendar-next-month = Mois suivant →
calendar-today = Aujourd'hui
calendar-help = Glissez un post vers un créneau libre. Au clavier : Entrée sur un post, puis Entrée sur un créneau libre ; Échap annule. Ou utilisez son menu « Déplacer vers ».
calendar-picked = Post saisi. Allez sur un créneau libre et appuyez sur Entrée ; Échap annule.
calendar-moving = Déplacement du post…
calendar-cancelled = Déplacement annulé.
calendar-started = En cours de publication
calendar-move-menu = Déplacer vers…
calendar-free = libre
calendar-full = jour complet
profile-linkedin-photo = Votre photo LinkedIn
# Connexion avec un fournisseur OpenID Connect (pages/identities.rs).
oidc-continue-with = Continuer avec { $provider }
oidc-or-email = ou avec votre e-mail
oidc-back-to-sign-in = Retour à la connexion
oidc-refused-title = La connexion avec { $provider } n'a pas abouti
oidc-refused-state = Cette connexion n'a pas été lancée ici, ou a pris trop de temps. Recommencez depuis la page de connexion.
oidc-refused-cancelled = Vous avez annulé la connexion avec { $provider }. Rien n'a été modifié.
oidc-refused-provider-error = { $provider } a refusé la connexion. Réessayez, ou connectez-vous avec votre e-mail.
oidc-refused-unavailable = { $provider } est injoignable pour le moment. Réessayez dans quelques minutes, ou connectez-vous avec votre e-mail.
oidc-refused-exchange = { $provider } n'a pas confirmé cette connexion. Recommencez depuis la page de connexion.
oidc-refused-token = La réponse de { $provider } n'a pas passé nos contrôles de sécurité : la connexion n'a pas été faite. Recommencez ; si cela se reproduit, prévenez-nous.
oidc-refused-unverified = { $provider } n'a pas confirmé votre adresse e-mail : aucun compte ne peut être créé avec. Confirmez-la auprès de { $provider }, ou créez un compte avec votre e-mail et un mot de passe.
oidc-refused-no-email = { $provider } ne nous a pas donné d'adresse e-mail : aucun compte ne peut être créé avec. Créez un compte avec votre e-mail et un mot de passe.
oidc-refused-held = Ce compte { $provider } sert déjà à se connecter à un autre compte AstroGrowth. Connectez-vous avec lui là-bas, ou déliez-le d'abord.
oidc-link-title = Lier votre compte { $provider }
oidc-link-why = Un compte existe déjà avec cet e-mail. Pour vérifier qu'il est à vous, connectez-vous une fois avec son mot de passe : votre compte { $provider } y sera lié, et vous connectera désormais.
oidc-link-submit = Me connecter et lier { $provider }
oidc-link-other-way = Votre compte n'a pas encore de mot de passe ? Connectez-vous comme d'habitude, puis liez { $provider } depuis votre profil ; ou choisissez un mot de passe avec « Mot de passe oublié ? ».
identities-title = Moyens de connexion
identities-password = Mot de passe
identities-password-set = Défini
identities-password-none = Pas encore de mot de passe : en choisir un
identities-link = Lier { $provider }
identities-unlink = Délier { $provider }
identities-last = Votre seul moyen de connexion : il ne peut pas être retiré
identities-notice-linked = Le compte est lié : vous pouvez vous connecter avec.
identities-notice-unlinked = Le compte est délié : il ne vous connecte plus.
identities-notice-last = C'est votre dernier moyen de connexion : choisissez d'abord un mot de passe ou liez un autre compte.
