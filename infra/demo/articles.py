"""Text of the demo site's twelve articles (all fictional, set in November 2026).

`build_site.py` turns these into the HTML pages and RSS feeds; the demo server builds the site
into `var/demo-site/` whenever it starts, so editing the text here is all it takes.

Seven stories are about US immigration policy and quote tracked public figures in
different ways (direct quotes with "said X" and "X said", "he added", reported speech,
partial quotes, straight and curly quote marks). Two of them (the green card caps story
and the H-1B story) cover the same Senate bill and share one identical Schumer quote, so
the demo shows that a statement repeated by two outlets alerts only once. Five stories
have nothing to do with immigration; only the city budget story quotes anyone (a
fictional, untracked city official).
"""

from __future__ import annotations

# A quote both outlets carry word for word.
SHARED_SCHUMER_QUOTE = (
    "Fixing the green card caps is not amnesty, it is arithmetic, and the arithmetic has been broken for twenty years"
)

ARTICLES: list[dict] = [
    # ------------------------------------------------------------------ The Harbor Courier
    {
        "outlet": "harbor-courier",
        "slug": "senate-negotiators-float-plan-to-lift-green-card-caps",
        "section": "Nation",
        "headline": "Senate negotiators float plan to lift per-country green card caps",
        "description": (
            "A bipartisan draft would raise the yearly ceiling on employment-based green cards "
            "and phase out the per-country limit, in exchange for tighter H-1B rules."
        ),
        "author": "Dana Whitfield",
        "published": "2026-11-09T07:30:00-05:00",
        "modified": "2026-11-09T09:12:00-05:00",
        "paragraphs": [
            "WASHINGTON — A small bipartisan group of senators on Monday circulated the outline of a "
            "bill that would phase out the 7 percent per-country limit on employment-based green "
            "cards, a change its backers say would shorten waits that now stretch beyond a decade "
            "for many applicants born in India and China.",
            "The draft would also raise the annual ceiling on employment-based green cards from "
            "about 140,000 to 175,000 for five years and recapture visa numbers that went unused in "
            "earlier years. In exchange, it would tighten the rules of the H-1B program, the "
            "temporary work visa that many people in the green card line hold while they wait.",
            f"“{SHARED_SCHUMER_QUOTE},” Senate Minority Leader Chuck Schumer said at a briefing on "
            "Capitol Hill. He said Democrats would not insist on attaching other immigration "
            "measures to the package.",
            "The White House has not endorsed the outline. Vice President JD Vance told reporters on "
            'Monday afternoon that the administration would look at any bill "that puts American '
            'workers first," but he questioned whether raising the overall number of green cards '
            "was the right priority while pay in some technology jobs has been flat.",
            '"If you lift the ceiling, you had better be sure the people coming in are filling real '
            'shortages and not undercutting graduates from Ohio State," Vance said. "That\'s the '
            'test."',
            "Secretary of State Marco Rubio, whose department issues immigrant visas at consulates "
            "abroad, said the State Department was ready for a larger workload. “Our consular teams "
            "can process more cases if Congress gives them the numbers and the staff,” Rubio said. "
            "“What they cannot do is rewrite a statute from 1990.”",
            "The per-country cap limits any single nation to 7 percent of the green cards issued in "
            "a given year, however many applicants it sends. Because demand from India far exceeds "
            "that share, Indian nationals sponsored by employers can face waits that immigration "
            "lawyers estimate in decades rather than years.",
            "Business groups welcomed the draft but said its H-1B provisions, which would require "
            "employers to advertise positions for longer and pay higher wages, needed work. Labor "
            "unions said they wanted to see the final text before taking a position.",
            "Aides said a committee markup could come before the Thanksgiving recess, though floor "
            "time in December is already crowded with spending bills.",
        ],
    },
    {
        "outlet": "harbor-courier",
        "slug": "refugee-ceiling-set-as-asylum-backlog-grows",
        "section": "Nation",
        "headline": "Refugee ceiling set for 2027 as officials promise faster asylum decisions",
        "description": (
            "The administration will admit up to 10,000 refugees this fiscal year and plans an "
            "expedited track for asylum claims made at ports of entry."
        ),
        "author": "Priya Castellanos",
        "published": "2026-11-04T10:15:00-05:00",
        "modified": "2026-11-04T10:15:00-05:00",
        "paragraphs": [
            "WASHINGTON — The administration on Wednesday set the number of refugees the United "
            "States will admit in the 2027 fiscal year at 10,000, keeping resettlement near the "
            "lowest level since the modern program began in 1980, while officials promised new steps "
            "to clear a backlog of asylum claims that runs into the millions.",
            "Secretary of State Marco Rubio said the ceiling reflected a decision to put resources "
            'into the cases the government considers most urgent. "We are going to do fewer cases '
            'and do them carefully," Rubio said in a written statement. "Every refugee we admit '
            'will be someone we have fully vetted."',
            "Homeland Security Secretary Kristi Noem described the asylum backlog as “a mess we "
            "inherited and one we intend to finish cleaning up,” and said the department would hire "
            "more asylum officers so that interviews happen earlier in the process.",
            "Under the plan, people who ask for asylum at ports of entry would get an initial "
            "screening within days rather than months, and claims judged weak at that stage would be "
            "moved to an expedited track. “Speed is fairness,” Noem said. “A person with a real claim "
            "should not wait six years for an answer, and a person without one should not be able "
            "to wait six years either.”",
            '"You cannot speed up due process by skipping it," said Sen. Alex Padilla of '
            "California, who said faster decisions were welcome only if applicants could still find "
            "a lawyer and get a genuine hearing. He said he would ask the Judiciary Committee to "
            "hold an oversight hearing on the expedited track before it takes effect.",
            "Resettlement agencies, which depend on federal funding tied to the number of arrivals, "
            "said the low ceiling would force them to close more local offices. One agency in the "
            "Midwest said it had already let go of a third of its caseworkers over the past year.",
            "Asylum and refugee status are separate processes. Refugees are screened and approved "
            "abroad before they travel, while asylum seekers apply after reaching the United States "
            "or arriving at the border. Both must show a well-founded fear of persecution because of "
            "race, religion, nationality, political opinion or membership in a particular social "
            "group.",
            "The new ceiling takes effect immediately. The expedited asylum track is scheduled to "
            "begin in February, after a public comment period.",
        ],
    },
    {
        "outlet": "harbor-courier",
        "slug": "deportation-flights-from-southern-california-to-increase",
        "section": "Nation",
        "headline": "Deportation flights from Southern California to double, ICE says",
        "description": (
            "Federal officials plan more removal flights for people with final deportation orders; "
            "California says it will not lend state resources."
        ),
        "author": "Rafael Montoya",
        "published": "2026-11-16T16:40:00-05:00",
        "modified": "2026-11-16T18:05:00-05:00",
        "paragraphs": [
            "LOS ANGELES — Immigration and Customs Enforcement plans to roughly double the number of "
            "deportation flights leaving Southern California over the next three months, federal "
            "officials said on Monday, as the administration pushes to increase removals of people "
            "who already have final orders to leave the country.",
            "“We are prioritizing people who have already had their day in court and lost,” Tom "
            "Homan said at a news conference in Washington. “A final order of removal has to mean "
            "something, or the whole system stops working.”",
            "Homan said the agency would focus first on people with criminal convictions but "
            "acknowledged that others with removal orders could also be detained. He said ICE would "
            "add detention space in the Central Valley to support the flights.",
            "Gov. Gavin Newsom said California would not use state resources to help with the "
            "operation and urged federal officials to be open about who was being removed. "
            '"California will follow the law, and we expect Washington to do the same," Newsom '
            'said. "That means no raids at schools, no raids at hospitals, and no secret flights."',
            "Speaking to reporters at the White House, Stephen Miller said the pace of removals "
            'would keep rising "until every final order is carried out," and argued that '
            "sanctuary policies leave local communities less safe. He said state leaders were "
            "standing in the way of federal law.",
            "Immigration lawyers in Los Angeles said they had seen more calls from families worried "
            "that relatives with old removal orders would be picked up at routine check-ins. Some of "
            "those orders are more than a decade old, the lawyers said, and the people involved have "
            "since married U.S. citizens or had children here.",
            "The Department of Homeland Security did not say how many people it expected to remove "
            "through the Southern California flights. Nationwide, the department has said it aims "
            "for a large increase in removals during the 2027 fiscal year.",
            "Advocacy groups planned a vigil outside the federal building in downtown Los Angeles on Tuesday evening.",
        ],
    },
    {
        "outlet": "harbor-courier",
        "slug": "first-noreaster-of-season-to-bring-gusts-and-coastal-flooding",
        "section": "Local",
        "headline": "First nor'easter of the season to bring strong gusts and coastal flooding",
        "description": (
            "Port Halden could see gusts near 50 mph and a foot of storm surge at high tide Wednesday night."
        ),
        "author": "Owen Larkspur",
        "published": "2026-11-03T06:00:00-05:00",
        "modified": "2026-11-03T11:45:00-05:00",
        "paragraphs": [
            "PORT HALDEN — The first nor'easter of the season is expected to reach the coast late "
            "Wednesday, bringing gusts of up to 50 mph, heavy rain and a storm surge that could "
            "flood low-lying streets near the waterfront during Wednesday night's high tide.",
            "Forecasters at the regional weather office placed Port Halden and the rest of Harbor "
            "County under a coastal flood watch from 8 p.m. Wednesday until 6 a.m. Friday. Between "
            "two and three inches of rain are likely, with locally higher amounts along the ridge "
            "west of the city.",
            "The storm will form off the Carolinas on Tuesday night and strengthen as it moves up "
            "the coast. The heaviest rain is expected between midnight and dawn on Thursday, which "
            "could make for a slow morning commute. Winds will turn to the northwest by Thursday "
            "afternoon, and temperatures will fall into the low 40s behind the storm.",
            "The city's public works department said crews would spend Tuesday clearing storm "
            "drains along Front Street, Cannery Row and the lower end of Mill Avenue, which flooded "
            "twice last winter. Sandbags will be available at the Front Street fire station starting "
            "at noon on Wednesday, limited to ten per household.",
            "The Harbor Ferry said it would suspend crossings to Gull Island from Wednesday evening "
            "until winds ease, most likely by Thursday afternoon. Island residents who need to be on "
            "the mainland Thursday morning were advised to cross on Wednesday.",
            "Utility crews from two neighboring states have been placed on standby. Power outages "
            "are most likely in wooded neighborhoods, where trees still carrying late leaves are "
            "more prone to losing limbs in strong wind.",
            "Residents were asked to bring in patio furniture and trash bins, move cars out of "
            "flood-prone lots near the marina, and check on elderly neighbors. Drivers should never "
            "try to cross water of unknown depth; six inches of moving water can knock a person "
            "down, and a foot can float a car.",
            "The weekend looks calmer, with sunshine returning on Saturday and highs near 55.",
        ],
    },
    {
        "outlet": "harbor-courier",
        "slug": "council-weighs-budget-with-ferry-subsidy-and-library-hours",
        "section": "Local",
        "headline": "Council weighs $412 million budget with ferry subsidy, longer library hours",
        "description": (
            "Port Halden's proposed budget raises the property tax rate slightly and restores "
            "Sunday hours at branch libraries."
        ),
        "author": "Owen Larkspur",
        "published": "2026-11-10T19:20:00-05:00",
        "modified": "2026-11-10T19:20:00-05:00",
        "paragraphs": [
            "PORT HALDEN — The City Council on Tuesday opened hearings on a proposed $412 million "
            "budget for next year that would keep the Gull Island ferry subsidy in place, restore "
            "Sunday hours at three branch libraries and raise the property tax rate by two cents per "
            "$100 of assessed value.",
            "The proposal is about 4 percent larger than this year's budget. Most of the increase "
            "comes from contracts with police, fire and public works employees that were settled in "
            "the spring, along with higher costs for health insurance.",
            '"This is a budget that pays for the raises we already agreed to and protects the '
            "services people actually use,\" said Maureen Tully, the city's finance director, in her "
            'presentation to the council. "It does not start anything we cannot afford to finish."',
            "The ferry subsidy, about $3.1 million a year, has been debated since the state cut its "
            "share of the cost two years ago. Several council members had suggested raising fares "
            "instead, but the proposal keeps the adult round-trip fare at $6.",
            "Library supporters, who filled the first rows of the council chamber, applauded when "
            "the Sunday hours were mentioned. The branches in Eastbrook, Northside and Cannery Row "
            "closed on Sundays in 2024 to save money.",
            "For the owner of a median-priced home, assessed at about $310,000, the tax increase "
            "would add roughly $62 a year. Council member Frank Oduya said he would push to limit "
            "the increase to one cent by delaying the purchase of two new fire engines.",
            "The budget also sets aside $2.4 million for storm drain repairs in the waterfront "
            "district, where streets flooded twice last winter, and $900,000 to replace playground "
            "equipment at Bayview and Linden parks.",
            "Two more public hearings are scheduled, on Nov. 17 and Dec. 1. The council must adopt a "
            "budget by Dec. 15.",
        ],
    },
    {
        "outlet": "harbor-courier",
        "slug": "seagrass-meadows-in-harbor-are-rebounding-survey-finds",
        "section": "Science",
        "headline": "Seagrass meadows in the harbor are rebounding, university survey finds",
        "description": (
            "Eelgrass now covers about 180 acres of the inner harbor, nearly triple the area mapped ten years ago."
        ),
        "author": "Priya Castellanos",
        "published": "2026-11-19T08:10:00-05:00",
        "modified": "2026-11-19T08:10:00-05:00",
        "paragraphs": [
            "PORT HALDEN — Underwater meadows of eelgrass, once nearly gone from the inner harbor, "
            "have spread to cover about 180 acres, according to a survey released on Thursday by "
            "marine scientists at Halden State University. That is almost three times the area the "
            "same team mapped a decade ago.",
            "The researchers combined aerial photographs taken at low tide with dives at 60 sites "
            "between June and September. They found dense beds along the eastern shore of Gull "
            "Island and smaller, patchier ones near the mouth of the Mill River.",
            "Eelgrass is a flowering plant that grows in shallow, clear water. Its meadows shelter "
            "young fish and shellfish, slow waves that would otherwise erode the shoreline, and "
            "store carbon in the sediment beneath them. Because it needs light to grow, it is "
            "sensitive to murky water and was one of the first things to disappear as pollution "
            "increased last century.",
            "The team linked the recovery mainly to cleaner water. Upgrades at the city's "
            "wastewater plant, completed in 2018, cut the amount of nitrogen flowing into the harbor "
            "by more than half, and water clarity at the monitoring buoy off Front Street has "
            "improved steadily since. A volunteer program that planted seedlings in 2020 and 2021 "
            "also appears to have helped in a few coves.",
            "Not all the news was good. Beds in the warmest, shallowest parts of the harbor thinned "
            "after a heat wave in July, when water temperatures stayed above 77 degrees for nine "
            "days. Eelgrass struggles in water that warm, and the survey warns that more frequent "
            "heat waves could reverse some of the gains.",
            "The study also counted more juvenile bay scallops than in any previous survey. "
            "Scallops spend their early weeks clinging to eelgrass blades, and their numbers tend to "
            "track the health of the meadows.",
            "The team plans to repeat the survey every two years and has asked boaters to avoid "
            "anchoring in the marked meadows off Gull Island, where propellers and anchor chains "
            "can tear up plants by the roots.",
        ],
    },
    # ------------------------------------------------------------------ Metro Wire Service
    {
        "outlet": "metro-wire",
        "slug": "tech-employers-weigh-stricter-h1b-rules-in-senate-visa-package",
        "section": "Politics",
        "headline": "Tech employers weigh stricter H-1B rules in Senate visa package",
        "description": (
            "A Senate draft would make H-1B visas harder to use while giving foreign-born workers a "
            "faster path to a green card."
        ),
        "author": "Marcus Ellery",
        "published": "2026-11-09T13:05:00-05:00",
        "modified": "2026-11-09T15:30:00-05:00",
        "paragraphs": [
            "WASHINGTON (Metro Wire) — Technology companies that rely on the H-1B visa program spent "
            "Monday combing through a Senate draft that would make the visas harder and costlier to "
            "use, even as it offers their foreign-born employees a faster path to permanent "
            "residency.",
            "Under the proposal, employers would have to post openings for at least 30 days before "
            "filing an H-1B petition and pay at or above the local median wage for the occupation. "
            "Companies whose U.S. workforce is more than half H-1B holders would be barred from "
            "adding more. The annual cap of 85,000 new H-1B visas would stay the same.",
            f'"{SHARED_SCHUMER_QUOTE}," said Sen. Chuck Schumer, the New York Democrat who leads '
            "his party in the Senate.",
            "Elon Musk, whose companies employ engineers on work visas, wrote on his social media "
            'platform that the draft was "a step in the right direction" but warned that longer '
            "recruiting windows would push hiring overseas.",
            "Vivek Ramaswamy, the Ohio businessman and former presidential candidate, has argued for "
            "replacing the lottery that hands out H-1B visas with a system that ranks applications "
            "by salary. “The lottery is the worst of both worlds,” Ramaswamy said in an interview. "
            "“It rewards the companies that file the most paperwork, not the ones paying for the "
            "rarest skills.”",
            "“Put a wage ranking in this bill and I will be the first to cheer for it,” he added.",
            "The White House was more skeptical. Stephen Miller, the deputy chief of staff, told "
            "reporters outside the West Wing that the administration would oppose any expansion of "
            "work visas that was not matched by tougher penalties for employers who misuse them.",
            "An industry group representing software companies estimated that the 30-day posting "
            "requirement alone would add about six weeks to a typical hire. Groups that speak for "
            "U.S.-born tech workers said the change was long overdue.",
            "The Senate is not expected to vote on the package before December, and a companion bill "
            "has not been introduced in the House.",
        ],
    },
    {
        "outlet": "metro-wire",
        "slug": "texas-and-federal-agents-expand-joint-patrols-along-rio-grande",
        "section": "Politics",
        "headline": "Texas and federal agents expand joint patrols along Rio Grande",
        "description": (
            "State troopers and Border Patrol agents will patrol a 60-mile stretch of the river together through March."
        ),
        "author": "Lena Okafor",
        "published": "2026-11-12T12:25:00-05:00",
        "modified": "2026-11-12T12:25:00-05:00",
        "paragraphs": [
            "EAGLE PASS, Texas (Metro Wire) — Texas state troopers and federal Border Patrol agents "
            "will begin running joint patrols along a 60-mile stretch of the Rio Grande next week, "
            "officials announced on Thursday, a sign of closer cooperation between the state and "
            "Washington on immigration enforcement after years of legal fights.",
            '"Texas built this line of protection when nobody else would, and we are not taking it '
            'down," said Gov. Greg Abbott, who appeared with federal officials at a staging area '
            "near the river and said the state would keep its own barriers and wire in place. "
            '"Now we finally have a partner in Washington."',
            '"We will judge this by results, not by press releases," he added.',
            "Tom Homan, the White House border czar, said crossings between official ports of entry "
            "had dropped sharply over the past year but that smuggling networks were adapting. "
            "“The cartels don’t quit, so we don’t quit,” said Homan. “They are moving people "
            "through the ranch land at night, and that is exactly where these patrols are going.”",
            "Homan told reporters that the federal government would reimburse part of the state's "
            "costs for the joint operation, though he did not give a figure. A spokesperson for the "
            "Texas Department of Public Safety said the state has spent billions of dollars on its "
            "border operation since 2021.",
            "Local reaction in Maverick County was mixed. Ranchers said they welcomed more patrols, "
            "while some Eagle Pass residents said checkpoints on county roads had already made "
            "routine trips to work and school slower.",
            "Civil liberties groups said they would watch whether state troopers, who are not "
            "trained as immigration officers, detain migrants on suspicion of illegal entry. A "
            "challenge to a Texas law that lets state officers make such arrests is still moving "
            "through the federal courts.",
            "The joint patrols are scheduled to run through March, when officials said they would "
            "review arrest data and decide whether to extend them to other sectors.",
        ],
    },
    {
        "outlet": "metro-wire",
        "slug": "appeals-court-ruling-leaves-daca-recipients-in-limbo",
        "section": "Politics",
        "headline": "Appeals court ruling leaves DACA recipients in limbo again",
        "description": (
            "Current recipients may keep renewing their permits, but no new applications can be "
            "approved while the case heads toward the Supreme Court."
        ),
        "author": "Marcus Ellery",
        "published": "2026-11-18T14:50:00-05:00",
        "modified": "2026-11-18T17:20:00-05:00",
        "paragraphs": [
            "NEW ORLEANS (Metro Wire) — A federal appeals court on Wednesday upheld a lower court's "
            "finding that the Deferred Action for Childhood Arrivals program was unlawfully created, "
            "but allowed current recipients to keep renewing their work permits while the case "
            "continues, leaving roughly half a million people where they have been for years: "
            "protected for now, and unsure for how long.",
            "The ruling by a three-judge panel bars the government from approving new DACA "
            "applications but does not order an end to renewals. Either side is expected to ask the "
            "Supreme Court to take up the case.",
            "“These young people grew up here, went to school here and pay taxes here,” said Sen. "
            "Alex Padilla, a California Democrat. “They deserve a permanent answer, not another "
            "two-year extension.” In a written statement, Sen. Padilla also called the ruling "
            '"another reminder that a court is not a substitute for Congress."',
            "President Donald Trump, asked about the ruling at a White House event, said he was open "
            "to a deal for DACA recipients if it came with tougher border measures. \"I've always "
            "said we can do something for the Dreamers, but it has to be a real deal, with real "
            'security," Trump said. "We\'ll see what the Democrats want to do."',
            "Vice President JD Vance said any agreement would have to be “narrow, fair and final,” "
            "and told reporters that the administration would not accept a bill that extended legal "
            "status to other groups.",
            "DACA, created by executive action in 2012, shields people brought to the United States "
            "as children from deportation and allows them to work legally. Recipients must renew "
            "their status every two years. Because of litigation, the program has been closed to "
            "new applicants for most of its existence.",
            "Employers of DACA recipients, including school districts and hospitals, have warned "
            "that losing those work permits would disrupt staffing. A survey by an advocacy group "
            "found that most recipients have lived in the United States for more than 20 years.",
            "Lawyers for the states that challenged the program said they would keep pressing for a "
            "complete end to DACA.",
        ],
    },
    {
        "outlet": "metro-wire",
        "slug": "citizenship-applicants-to-face-revised-civics-test",
        "section": "Politics",
        "headline": "Citizenship applicants to face revised civics test starting in April",
        "description": (
            "Naturalization applicants will answer 20 questions and must get 12 right under the revised test."
        ),
        "author": "Lena Okafor",
        "published": "2026-11-06T09:40:00-05:00",
        "modified": "2026-11-06T09:40:00-05:00",
        "paragraphs": [
            "WASHINGTON (Metro Wire) — U.S. Citizenship and Immigration Services will introduce a "
            "revised civics test for naturalization applicants in April, the agency announced on "
            "Friday, part of a broader overhaul of the citizenship process that also expands checks "
            "on applicants' character and ties to their communities.",
            "Applicants will be asked 20 questions drawn from a larger bank on U.S. history and "
            "government and must answer at least 12 correctly. The English reading and writing test "
            "stays in place, and applicants who fail any part will still get one chance to retake it "
            "within 90 days.",
            "“Citizenship is the highest honor this country can give, and it should be earned,” "
            "President Donald Trump said in a statement released by the White House. “People who "
            "become Americans should know our history and love it.”",
            "Homeland Security Secretary Kristi Noem, whose department oversees the agency, said the "
            "changes would be applied evenly across field offices. Noem told reporters on Friday "
            "that applicants would get free study materials online and at public libraries, and "
            "that the new test would not apply to people whose interviews were already scheduled.",
            "Gov. Gavin Newsom criticized the overhaul, saying it would discourage eligible "
            'permanent residents from applying. "We should be celebrating people who want to take '
            'the oath, not inventing new hoops for them to jump through," Newsom said.',
            '"California will pay for the extra classes if Washington won\'t," he added, saying the '
            "state would fund citizenship courses at community colleges.",
            "Roughly 800,000 people become U.S. citizens in a typical year. Immigration attorneys "
            "said a longer test could mean more applicants needing a second interview, adding to "
            "waits at busy field offices.",
            "Naturalization ceremonies are usually held at federal courthouses and agency offices. "
            "A single ceremony in a large city can swear in several thousand new citizens at once.",
        ],
    },
    {
        "outlet": "metro-wire",
        "slug": "comets-clinch-playoff-berth-with-overtime-win",
        "section": "Sports",
        "headline": "Comets clinch playoff berth with overtime win over Stallions",
        "description": (
            "Tariq Benning's 41-yard field goal in overtime sent Riverton to the postseason for the "
            "first time in six years."
        ),
        "author": "Jonah Prewitt",
        "published": "2026-11-15T23:10:00-05:00",
        "modified": "2026-11-16T00:35:00-05:00",
        "paragraphs": [
            "RIVERTON (Metro Wire) — Tariq Benning kicked a 41-yard field goal with 2:14 left in "
            "overtime on Sunday night, and the Riverton Comets beat the Lakeshore Stallions 27-24 to "
            "clinch their first playoff berth in six years.",
            "The Comets (8-2) trailed 24-17 with under four minutes left in regulation before "
            "quarterback Eli Vasquez led a 12-play, 80-yard drive, finishing it with a 9-yard "
            "touchdown pass to tight end Nate Delahunt on fourth down with 31 seconds on the clock.",
            "Riverton's defense then forced a three-and-out on the first possession of overtime. "
            "Vasquez completed three straight passes to move the ball into Stallions territory, and "
            "Benning, who had missed from 48 yards in the second quarter, put the winner through "
            "with room to spare.",
            "Vasquez finished 27 of 38 for 311 yards and two touchdowns. Running back Andre Castle "
            "added 94 yards on 19 carries, including a 22-yard run that set up a first-half field "
            "goal.",
            "Lakeshore (6-4) had taken control in the third quarter behind running back Dion "
            "Whitlock, who scored on runs of 3 and 38 yards. Whitlock finished with 142 yards, the "
            "most the Comets have allowed to a single rusher this season.",
            "The Stallions had a chance to win at the end of regulation, but a 52-yard attempt by "
            "Cole Ferreira fell short as time expired. Lakeshore has now lost three of its last four "
            "games and sits one game out of the final wild-card spot.",
            "Riverton's defense finished with four sacks, two by linebacker Sam Okoro, who also "
            "recovered a fumble late in the first half. The Comets are 5-0 at home this season.",
            "Riverton can lock up the division title with a win at Port Halden next Sunday. Lakeshore hosts Millbrook.",
        ],
    },
    {
        "outlet": "metro-wire",
        "slug": "startup-unveils-solar-powered-e-reader",
        "section": "Technology",
        "headline": "Startup unveils solar-powered e-reader it says can run for months",
        "description": ("Lanternbook's new Daylight reader charges from room light and ships in February for $179."),
        "author": "Jonah Prewitt",
        "published": "2026-11-17T10:00:00-05:00",
        "modified": "2026-11-17T10:00:00-05:00",
        "paragraphs": [
            "SEATTLE (Metro Wire) — Lanternbook, a small hardware startup, on Tuesday introduced an "
            "e-reader with a solar panel built into its front frame and a battery the company says "
            "can last for months of ordinary reading without ever being plugged in.",
            "The device, called the Daylight, has a 7-inch black-and-white electronic ink screen and "
            "weighs about 170 grams. A thin strip of indoor-grade solar cells around the screen "
            "charges the battery from sunlight or bright room light. The company says an hour of "
            "reading a day under typical indoor lighting uses less energy than the panel collects.",
            "The Daylight will sell for $179 and begin shipping in February. Preorders opened on "
            "Tuesday on the company's website.",
            "Lanternbook was founded three years ago by engineers who previously worked on wearable "
            "devices. It has raised about $22 million from investors and has 40 employees.",
            "The e-reader supports common file formats and can borrow books from public libraries "
            "that use standard lending services, but it does not come with its own bookstore. "
            "Readers can load books over Wi-Fi or with a USB-C cable, which also charges the "
            "battery when there is not enough light.",
            "Early reviewers who tested preproduction units said the screen was sharp and the page "
            "turns quick, but noted that the front light, needed for reading in the dark, drains "
            "the battery much faster than the solar panel can refill it. The company says a full "
            "charge lasts about six weeks with the light on for an hour each night.",
            "Industry analysts said the product could appeal to readers tired of charging yet "
            "another gadget, but cautioned that small hardware makers often struggle to compete "
            "with the large companies that dominate the e-reader market and subsidize devices to "
            "sell books.",
            "The company plans a larger, 10-inch model with a stylus for note-taking next year.",
        ],
    },
]
