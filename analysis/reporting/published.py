"""Published real-world ketamine and esketamine results a clinic's rates are read beside (with citations)."""

from __future__ import annotations

# Published real-world results a clinic's rates can be read beside (PHQ-9 unless stated).
# Numbers are from each paper's abstract; the `basis` says whom the rate counts.
PUBLISHED_RESULTS: tuple[dict, ...] = (
    {
        "study": "McInnes 2022",
        "modality": "Ketamine IV",
        "setting": "178 US community practices, 2016-2020 (retrospective)",
        "n": 537,
        "basis": "patients who completed a 4-8 infusion induction with sufficient data; PHQ-9 14-31 days after induction",
        "response_rate": 0.536,
        "remission_rate": 0.289,
        "median_baseline": None,
        "median_endpoint": None,
        "citation": (
            "McInnes LA, Qian JJ, Gargeya RS, DeBattista C, Heifets BD. A retrospective analysis of ketamine "
            "intravenous therapy for depression in real-world care settings. J Affect Disord. "
            "2022;301:486-495."
        ),
        "doi": "10.1016/j.jad.2021.12.097",
    },
    {
        "study": "Oliver 2022",
        "modality": "Ketamine IV",
        "setting": "multisite private infusion clinic, treatment-resistant depression, 2017-2021 (chart review)",
        "n": 424,
        "basis": "within 6 weeks of the first of 6 infusions (longitudinal model); 72% / 38% after 10 infusions",
        "response_rate": 0.50,
        "remission_rate": 0.20,
        "median_baseline": None,
        "median_endpoint": None,
        "citation": (
            "Oliver PA, Snyder AD, Feinn R, Malov S, McDiarmid G, Arias AJ. Clinical effectiveness of "
            "intravenous racemic ketamine infusions in a large community sample of patients with "
            "treatment-resistant depression, suicidal ideation, and generalized anxiety symptoms: a "
            "retrospective chart review. J Clin Psychiatry. 2022;83(6):21m14336."
        ),
        "doi": "10.4088/JCP.21m14336",
    },
    {
        "study": "Hull 2022",
        "modality": "Ketamine sublingual (at home)",
        "setting": "telehealth provider, 4 sessions over 4 weeks (prospective, open label)",
        "n": 1247,
        "basis": "patients who completed treatment with sufficient data",
        "response_rate": 0.628,
        "remission_rate": 0.326,
        "median_baseline": None,
        "median_endpoint": None,
        "citation": (
            "Hull TD, Malgaroli M, Gazzaley A, et al. At-home, sublingual ketamine telehealth is a safe and "
            "effective treatment for moderate to severe anxiety and depression: findings from a large, "
            "prospective, open-label effectiveness trial. J Affect Disord. 2022;314:59-67."
        ),
        "doi": "10.1016/j.jad.2022.07.004",
    },
    {
        "study": "Ahuja (Brendle) 2022",
        "modality": "Ketamine IM",
        "setting": "US outpatient psychiatric clinic network, 2018-2021 (retrospective cohort)",
        "n": 452,
        "basis": "median PHQ-9 at baseline and at the last treatment (median 4 treatments); no response rate reported",
        "response_rate": None,
        "remission_rate": None,
        "median_baseline": 16.0,
        "median_endpoint": 10.0,
        "citation": (
            "Ahuja S, Brendle M, Smart L, Moore C, Thielking P, Robison R. Real-world depression, anxiety "
            "and safety outcomes of intramuscular ketamine treatment: a retrospective descriptive cohort "
            "study. BMC Psychiatry. 2022;22:634."
        ),
        "doi": "10.1186/s12888-022-04268-5",
    },
)
