"""The typed results of every public :class:`~goalengine.GoalEngine` method.

Each is a ``TypedDict`` whose keys are exactly what ``--json`` prints for the matching command, so
an embedder's ``mypy --strict`` catches a misspelt key, and the CLI prints the very dict the engine
returned. Fixed word sets are ``Literal`` types (the enums' values). One name, one type per concept
in every result: ``actor`` is always ``role:name`` text, a ``target`` always its text
(``phq9<10``; ``target_detail`` holds its parts), times are UTC ISO 8601, days ISO dates.

Nothing here runs: the package only describes shapes (``typing`` and nothing else), one module an
area (:mod:`.common` the word sets and shared pieces, then :mod:`.goals`, :mod:`.clients`,
:mod:`.events`, :mod:`.plugins` and :mod:`.audit`); import every name from here
(``from goalengine.results import GoalState``).
"""

from goalengine.results.audit import CheckpointCheck as CheckpointCheck
from goalengine.results.audit import CheckpointResult as CheckpointResult
from goalengine.results.audit import ExportManifest as ExportManifest
from goalengine.results.audit import Fingerprint as Fingerprint
from goalengine.results.audit import RebuildCounts as RebuildCounts
from goalengine.results.audit import ReplaySummary as ReplaySummary
from goalengine.results.audit import StoreInfo as StoreInfo
from goalengine.results.audit import VerifyReport as VerifyReport
from goalengine.results.clients import ClientAsOf as ClientAsOf
from goalengine.results.clients import ClientDetail as ClientDetail
from goalengine.results.clients import ClientEntry as ClientEntry
from goalengine.results.clients import ClientRevised as ClientRevised
from goalengine.results.clients import ClientState as ClientState
from goalengine.results.clients import SessionRecorded as SessionRecorded
from goalengine.results.clients import SessionRef as SessionRef
from goalengine.results.clients import SessionRow as SessionRow
from goalengine.results.common import AggregateTypeName as AggregateTypeName
from goalengine.results.common import AuthorshipName as AuthorshipName
from goalengine.results.common import ChangeResult as ChangeResult
from goalengine.results.common import DomainName as DomainName
from goalengine.results.common import FindingResult as FindingResult
from goalengine.results.common import HorizonName as HorizonName
from goalengine.results.common import KindName as KindName
from goalengine.results.common import Order as Order
from goalengine.results.common import OutcomeName as OutcomeName
from goalengine.results.common import RaterName as RaterName
from goalengine.results.common import RoleName as RoleName
from goalengine.results.common import SeverityName as SeverityName
from goalengine.results.common import StatusName as StatusName
from goalengine.results.events import FeedEntry as FeedEntry
from goalengine.results.events import HistoryEntry as HistoryEntry
from goalengine.results.events import StoreEvent as StoreEvent
from goalengine.results.goals import Anchors as Anchors
from goalengine.results.goals import DatedEntry as DatedEntry
from goalengine.results.goals import GoalChanged as GoalChanged
from goalengine.results.goals import GoalEntry as GoalEntry
from goalengine.results.goals import GoalReviewed as GoalReviewed
from goalengine.results.goals import GoalRevised as GoalRevised
from goalengine.results.goals import GoalState as GoalState
from goalengine.results.goals import LastReview as LastReview
from goalengine.results.goals import LatestRating as LatestRating
from goalengine.results.goals import RatingRow as RatingRow
from goalengine.results.goals import ReviewRow as ReviewRow
from goalengine.results.goals import TargetDetail as TargetDetail
from goalengine.results.plugins import AttributeInfo as AttributeInfo
from goalengine.results.plugins import ClientReview as ClientReview
from goalengine.results.plugins import ModalityBase as ModalityBase
from goalengine.results.plugins import ModalityDetail as ModalityDetail
from goalengine.results.plugins import ModalityInfo as ModalityInfo
from goalengine.results.plugins import PluginInfo as PluginInfo
from goalengine.results.plugins import Prioritized as Prioritized
from goalengine.results.plugins import PriorityEntry as PriorityEntry
from goalengine.results.plugins import ReviewItemResult as ReviewItemResult
from goalengine.results.plugins import RuleInfo as RuleInfo
from goalengine.results.plugins import StepSuggestion as StepSuggestion
