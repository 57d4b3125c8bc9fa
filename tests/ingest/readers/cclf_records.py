"""CCLF records laid out by the shipped record layouts, and the fixture files made of them.

``python -m tests.ingest.readers.cclf_records`` writes ``tests/fixtures/cclf/`` after a change to
the scenario; the test suite checks that the committed files are what this module writes.

The scenario (performance year 2023, hand-computed outcomes in tests/ingest/readers/test_cclf.py):

* three beneficiaries in CCLF8; the third's claims still carry an earlier MBI, which CCLF9 maps
  to the current one;
* Part A: an inpatient stay (1001) paid by DRG (lines paid 0, header 12,000.00, CCLFA deductible
  1,600.00) with four diagnoses and two procedures; an outpatient visit (1002) cancelled (1003)
  and adjusted (1004, paid 400.00); a home-health claim without revenue lines (1005);
* Part B: an office visit with a lab line (2001); a visit (2002) and its cancellation (2003); an
  adjustment whose original is not in the files (2004);
* DME: a CPAP (3001);
* Part D: a fill (4001) and its adjustment (4002); a fill at a pharmacy identified by its NCPDP
  number (4003).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from payvider.ingest.codes import luhn_npi_check_digit
from payvider.ingest.readers.cclf import layouts, record_length

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cclf"
PREFIX = "P.A9999.ACO"
FILE_DATE = "D230915.T0100000"


def npi(body: str) -> str:
    """A check-digit-valid NPI from nine digits."""
    return body + str(luhn_npi_check_digit(body))


#: Current MBIs of the three beneficiaries, and the earlier MBI of the third.
MBI_1, MBI_2, MBI_3, MBI_3_OLD = "1AA0AA0AA01", "1AA0AA0AA02", "1AA0AA0AA03", "1AA0AA0AA09"
PCP = npi("100000001")  # family practice, rendering on 2001
INTERNIST = npi("100000002")  # internal medicine, rendering on 2002/2003/2004
ATTENDING = npi("100000003")
HOSPITAL = npi("200000001")
DME_SUPPLIER = npi("200000002")
PRESCRIBER = npi("100000004")
PHARMACY = npi("200000003")
TIN = "123456789"


def field_text(kind: str, name: str, value: object) -> str:
    """A value laid out in its field: text left-justified, digits zero-filled, amounts signed."""
    f = next(f for f in layouts()[kind] if f.name == name)
    if value is None:
        return " " * f.length
    if f.type == "date":
        text = value.isoformat() if isinstance(value, dt.date) else str(value)
    elif f.type in ("amount", "quantity"):
        places = 2 if f.type == "amount" else 4
        amount = Decimal(str(value)).quantize(Decimal(1).scaleb(-places))
        sign = "-" if amount < 0 else " "
        text = sign + f"{abs(amount):0{f.length - 1}.{places}f}"
    elif f.type == "number":
        text = str(value).rjust(f.length, "0")
    else:
        text = str(value).ljust(f.length)
    if len(text) != f.length:
        raise ValueError(f"{kind}.{name}: {text!r} does not fit {f.length} characters")
    return text


def record(kind: str, **values: object) -> str:
    """One fixed-width record: every field of the layout, in order."""
    unknown = set(values) - {f.name for f in layouts()[kind]}
    if unknown:
        raise KeyError(f"{kind} has no field(s) {sorted(unknown)}")
    line = "".join(field_text(kind, f.name, values.get(f.name)) for f in layouts()[kind])
    assert len(line) == record_length(kind)
    return line


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# --- Part A ---------------------------------------------------------------------------------------


def part_a_header(claim: str, mbi: str, **kw: object) -> str:
    base = dict(
        CUR_CLM_UNIQ_ID=claim,
        PRVDR_OSCAR_NUM="240001",
        BENE_MBI_ID=mbi,
        CLM_NCH_PRMRY_PYR_CD=None,
        PRVDR_FAC_FIPS_ST_CD="24",
        FAC_PRVDR_NPI_NUM=HOSPITAL,
        ATNDG_PRVDR_NPI_NUM=ATTENDING,
        CLM_IDR_LD_DT=d("2023-09-01"),
        DGNS_PRCDR_ICD_IND="0",
        CLM_BLG_PRVDR_OSCAR_NUM="240001",
        CLM_BLG_PRVDR_NPI_NUM=HOSPITAL,
        CLM_CNTRCTR_NUM="06111",
        CLM_OPRTNL_IME_AMT=0,
        CLM_MDCR_IP_PPS_CPTL_IME_AMT=0,
        CLM_MDCR_IP_PPS_DSPRPRTNT_AMT=0,
        CLM_HIPPS_UNCOMPD_CARE_AMT=0,
        CLM_OPRTNL_DSPRPRTNT_AMT=0,
    )
    base.update(kw)
    return record("CCLF1", **base)


def revenue_line(claim: str, line: int, mbi: str, from_dt: str, thru_dt: str, **kw: object) -> str:
    base = dict(
        CUR_CLM_UNIQ_ID=claim,
        CLM_LINE_NUM=line,
        BENE_MBI_ID=mbi,
        PRVDR_OSCAR_NUM="240001",
        CLM_FROM_DT=d(from_dt),
        CLM_THRU_DT=d(thru_dt),
        CLM_LINE_SRVC_UNIT_QTY=1,
        CLM_FAC_PRVDR_OSCAR_NUM="240001",
    )
    base.update(kw)
    return record("CCLF2", **base)


def cclf1() -> list[str]:
    inpatient = dict(
        CLM_TYPE_CD="60",
        CLM_FROM_DT=d("2023-02-01"),
        CLM_THRU_DT=d("2023-02-05"),
        CLM_BILL_FAC_TYPE_CD="1",
        CLM_BILL_CLSFCTN_CD="1",
        CLM_BILL_FREQ_CD="1",
        PRNCPL_DGNS_CD="I214",
        ADMTG_DGNS_CD="R079",
        CLM_PMT_AMT="12000.00",
        BENE_PTNT_STUS_CD="01",
        DGNS_DRG_CD="0281",
        CLM_ADJSMT_TYPE_CD="0",
        CLM_EFCTV_DT=d("2023-02-20"),
        CLM_ADMSN_TYPE_CD="1",
        CLM_ADMSN_SRC_CD="7",
        CLM_MDCR_INSTNL_TOT_CHRG_AMT="45000.00",
        CLM_CNTL_NUM="A1001",
    )
    outpatient = dict(
        CLM_TYPE_CD="40",
        CLM_FROM_DT=d("2023-07-10"),
        CLM_THRU_DT=d("2023-07-10"),
        CLM_BILL_FAC_TYPE_CD="1",
        CLM_BILL_CLSFCTN_CD="3",
        CLM_BILL_FREQ_CD="1",
        PRNCPL_DGNS_CD="R079",
        CLM_PMT_AMT="350.00",
        BENE_PTNT_STUS_CD="01",
        CLM_MDCR_INSTNL_TOT_CHRG_AMT="900.00",
    )
    return [
        part_a_header("1001", MBI_1, **inpatient),
        part_a_header(
            "1002",
            MBI_2,
            **outpatient,
            CLM_ADJSMT_TYPE_CD="0",
            CLM_EFCTV_DT=d("2023-07-25"),
            CLM_CNTL_NUM="A1002",
        ),
        part_a_header(
            "1003",
            MBI_2,
            **outpatient,
            CLM_ADJSMT_TYPE_CD="1",
            CLM_EFCTV_DT=d("2023-08-14"),
            CLM_CNTL_NUM="A1003",
            CLM_ORG_CNTL_NUM="A1002",
        ),
        part_a_header(
            "1004",
            MBI_2,
            **(outpatient | {"CLM_PMT_AMT": "400.00"}),
            CLM_ADJSMT_TYPE_CD="2",
            CLM_EFCTV_DT=d("2023-08-14"),
            CLM_CNTL_NUM="A1004",
            CLM_ORG_CNTL_NUM="A1002",
        ),
        part_a_header(
            "1005",
            MBI_3_OLD,
            CLM_TYPE_CD="10",
            CLM_FROM_DT=d("2023-03-01"),
            CLM_THRU_DT=d("2023-03-31"),
            CLM_BILL_FAC_TYPE_CD="3",
            CLM_BILL_CLSFCTN_CD="2",
            CLM_BILL_FREQ_CD="1",
            PRNCPL_DGNS_CD="I509",
            CLM_PMT_AMT="2100.00",
            BENE_PTNT_STUS_CD="01",
            CLM_ADJSMT_TYPE_CD="0",
            CLM_EFCTV_DT=d("2023-04-12"),
            CLM_MDCR_INSTNL_TOT_CHRG_AMT="2500.00",
            CLM_CNTL_NUM="A1005",
        ),
    ]


def cclf2() -> list[str]:
    out = [
        revenue_line(
            "1001",
            n,
            MBI_1,
            "2023-02-01",
            "2023-02-05",
            CLM_TYPE_CD="60",
            CLM_LINE_FROM_DT=d("2023-02-01"),
            CLM_LINE_THRU_DT=d("2023-02-05"),
            CLM_LINE_PROD_REV_CTR_CD=rev,
            CLM_LINE_CVRD_PD_AMT=0,
        )
        for n, rev in ((1, "0120"), (2, "0250"), (3, "0360"))
    ]
    for claim, paid in (("1002", ("300.00", "50.00")), ("1003", ("300.00", "50.00"))):
        out += [
            revenue_line(
                claim,
                n,
                MBI_2,
                "2023-07-10",
                "2023-07-10",
                CLM_TYPE_CD="40",
                CLM_LINE_FROM_DT=d("2023-07-10"),
                CLM_LINE_THRU_DT=d("2023-07-10"),
                CLM_LINE_PROD_REV_CTR_CD=rev,
                CLM_LINE_HCPCS_CD=hcpcs,
                CLM_LINE_CVRD_PD_AMT=amount,
            )
            for n, rev, hcpcs, amount in (
                (1, "0450", "99284", paid[0]),
                (2, "0300", "80053", paid[1]),
            )
        ]
    out += [
        revenue_line(
            "1004",
            n,
            MBI_2,
            "2023-07-10",
            "2023-07-10",
            CLM_TYPE_CD="40",
            CLM_LINE_FROM_DT=d("2023-07-10"),
            CLM_LINE_THRU_DT=d("2023-07-10"),
            CLM_LINE_PROD_REV_CTR_CD=rev,
            CLM_LINE_HCPCS_CD=hcpcs,
            CLM_LINE_CVRD_PD_AMT=amount,
            HCPCS_1_MDFR_CD=modifier,
        )
        for n, rev, hcpcs, amount, modifier in (
            (1, "0450", "99284", "350.00", "25"),
            (2, "0300", "80053", "50.00", None),
        )
    ]
    return out


def cclf3() -> list[str]:
    return [
        record(
            "CCLF3",
            CUR_CLM_UNIQ_ID="1001",
            BENE_MBI_ID=MBI_1,
            CLM_TYPE_CD="60",
            CLM_VAL_SQNC_NUM=seq,
            CLM_PRCDR_CD=code,
            CLM_PRCDR_PRFRM_DT=d(day),
            PRVDR_OSCAR_NUM="240001",
            CLM_FROM_DT=d("2023-02-01"),
            CLM_THRU_DT=d("2023-02-05"),
            DGNS_PRCDR_ICD_IND="0",
            CLM_BLG_PRVDR_OSCAR_NUM="240001",
        )
        for seq, code, day in ((2, "B2111ZZ", "2023-02-03"), (1, "02703ZZ", "2023-02-02"))
    ]


def cclf4() -> list[str]:
    # The principal diagnosis (I214, on CCLF1) is listed second in CCLF4.
    return [
        record(
            "CCLF4",
            CUR_CLM_UNIQ_ID="1001",
            BENE_MBI_ID=MBI_1,
            CLM_TYPE_CD="60",
            CLM_PROD_TYPE_CD=kind,
            CLM_VAL_SQNC_NUM=seq,
            CLM_DGNS_CD=code,
            PRVDR_OSCAR_NUM="240001",
            CLM_FROM_DT=d("2023-02-01"),
            CLM_THRU_DT=d("2023-02-05"),
            CLM_POA_IND=poa,
            DGNS_PRCDR_ICD_IND="0",
            CLM_BLG_PRVDR_OSCAR_NUM="240001",
        )
        for seq, kind, code, poa in (
            (1, "D", "E119", "Y"),
            (2, "P", "I214", "Y"),
            (3, "D", "N179", "N"),
        )
    ]


def cclfa() -> list[str]:
    return [
        record(
            "CCLFA",
            CUR_CLM_UNIQ_ID="1001",
            BENE_MBI_ID=MBI_1,
            CLM_TYPE_CD="60",
            CLM_ACTV_CARE_FROM_DT=d("2023-02-01"),
            CLM_MDCR_IP_BENE_DDCTBL_AMT="1600.00",
            CLM_MDCR_COINSRNC_AMT=0,
            CLM_BLOOD_LBLTY_AMT=0,
            CLM_MDCR_DDCTBL_AMT=0,
        )
    ]


# --- Part B, DME, Part D ------------------------------------------------------------------------


def physician_line(claim: str, line: int, mbi: str, **kw: object) -> str:
    base = dict(
        CUR_CLM_UNIQ_ID=claim,
        CLM_LINE_NUM=line,
        BENE_MBI_ID=mbi,
        CLM_TYPE_CD="71",
        RNDRG_PRVDR_TYPE_CD="1",
        RNDRG_PRVDR_FIPS_ST_CD="24",
        CLM_FED_TYPE_SRVC_CD="1",
        CLM_POS_CD="11",
        CLM_RNDRG_PRVDR_TAX_NUM=TIN,
        CLM_CARR_PMT_DNL_CD="1",
        CLM_PRCSG_IND_CD="A",
        CLM_IDR_LD_DT=d("2023-09-01"),
        CLM_LINE_SRVC_UNIT_QTY=1,
        DGNS_PRCDR_ICD_IND="0",
        CLM_CNTRCTR_NUM="12302",
    )
    base.update(kw)
    return record("CCLF5", **base)


def cclf5() -> list[str]:
    visit = dict(CLM_FROM_DT=d("2023-01-10"), CLM_THRU_DT=d("2023-01-10"))
    line_dates = dict(CLM_LINE_FROM_DT=d("2023-01-10"), CLM_LINE_THRU_DT=d("2023-01-10"))
    dx_2001 = dict(CLM_DGNS_1_CD="E119", CLM_DGNS_2_CD="I10", CLM_DGNS_4_CD="Z794")
    later = dict(
        CLM_FROM_DT=d("2023-07-20"),
        CLM_THRU_DT=d("2023-07-20"),
        CLM_LINE_FROM_DT=d("2023-07-20"),
        CLM_LINE_THRU_DT=d("2023-07-20"),
        CLM_PRVDR_SPCLTY_CD="11",
        RNDRG_PRVDR_NPI_NUM=INTERNIST,
        CLM_LINE_HCPCS_CD="99213",
        CLM_LINE_CVRD_PD_AMT="80.00",
        CLM_LINE_ALOWD_CHRG_AMT="100.00",
        CLM_CNTL_NUM="B2002",
        CLM_DGNS_1_CD="I10",
    )
    return [
        physician_line(
            "2001",
            1,
            MBI_1,
            **visit,
            **line_dates,
            **dx_2001,
            CLM_PRVDR_SPCLTY_CD="08",
            RNDRG_PRVDR_NPI_NUM=PCP,
            CLM_LINE_HCPCS_CD="99214",
            CLM_LINE_CVRD_PD_AMT="100.00",
            CLM_LINE_ALOWD_CHRG_AMT="130.00",
            CLM_ADJSMT_TYPE_CD="0",
            CLM_EFCTV_DT=d("2023-01-24"),
            CLM_CNTL_NUM="B2001",
        ),
        physician_line(
            "2001",
            2,
            MBI_1,
            **visit,
            **line_dates,
            **dx_2001,
            CLM_PRVDR_SPCLTY_CD="08",
            RNDRG_PRVDR_NPI_NUM=PCP,
            CLM_LINE_HCPCS_CD="36415",
            CLM_LINE_CVRD_PD_AMT="8.00",
            CLM_LINE_ALOWD_CHRG_AMT="10.00",
            CLM_ADJSMT_TYPE_CD="0",
            CLM_EFCTV_DT=d("2023-01-24"),
            CLM_CNTL_NUM="B2001",
        ),
        physician_line(
            "2002", 1, MBI_2, **later, CLM_ADJSMT_TYPE_CD="0", CLM_EFCTV_DT=d("2023-08-01")
        ),
        physician_line(
            "2003", 1, MBI_2, **later, CLM_ADJSMT_TYPE_CD="1", CLM_EFCTV_DT=d("2023-08-21")
        ),
        physician_line(
            "2004",
            1,
            MBI_3_OLD,
            CLM_FROM_DT=d("2023-04-03"),
            CLM_THRU_DT=d("2023-04-03"),
            CLM_LINE_FROM_DT=d("2023-04-03"),
            CLM_LINE_THRU_DT=d("2023-04-03"),
            CLM_PRVDR_SPCLTY_CD="11",
            RNDRG_PRVDR_NPI_NUM=INTERNIST,
            CLM_LINE_HCPCS_CD="99215",
            CLM_LINE_CVRD_PD_AMT="150.00",
            CLM_LINE_ALOWD_CHRG_AMT="190.00",
            CLM_ADJSMT_TYPE_CD="2",
            CLM_EFCTV_DT=d("2023-05-02"),
            CLM_CNTL_NUM="B2004",
            CLM_DGNS_1_CD="I509",
        ),
    ]


def cclf6() -> list[str]:
    return [
        record(
            "CCLF6",
            CUR_CLM_UNIQ_ID="3001",
            CLM_LINE_NUM=1,
            BENE_MBI_ID=MBI_1,
            CLM_TYPE_CD="82",
            CLM_FROM_DT=d("2023-03-01"),
            CLM_THRU_DT=d("2023-03-01"),
            CLM_FED_TYPE_SRVC_CD="R",
            CLM_POS_CD="12",
            CLM_LINE_FROM_DT=d("2023-03-01"),
            CLM_LINE_THRU_DT=d("2023-03-01"),
            CLM_LINE_HCPCS_CD="E0601",
            CLM_LINE_CVRD_PD_AMT="60.00",
            PAYTO_PRVDR_NPI_NUM=DME_SUPPLIER,
            ORDRG_PRVDR_NPI_NUM=PCP,
            CLM_CARR_PMT_DNL_CD="1",
            CLM_PRCSG_IND_CD="A",
            CLM_ADJSMT_TYPE_CD="0",
            CLM_EFCTV_DT=d("2023-03-15"),
            CLM_IDR_LD_DT=d("2023-09-01"),
            CLM_CNTL_NUM="D3001",
            CLM_LINE_ALOWD_CHRG_AMT="75.00",
            CLM_DISP_CD="01",
            CLM_BLG_PRVDR_NPI_NUM=DME_SUPPLIER,
            CLM_RFRG_PRVDR_NPI_NUM=PCP,
        )
    ]


def fill(claim: str, mbi: str, **kw: object) -> str:
    base = dict(
        CUR_CLM_UNIQ_ID=claim,
        BENE_MBI_ID=mbi,
        CLM_TYPE_CD="01",
        PRVDR_SRVC_ID_QLFYR_CD="01",
        CLM_SRVC_PRVDR_GNRC_ID_NUM=PHARMACY,
        CLM_DSPNSNG_STUS_CD="C",
        CLM_DAW_PROD_SLCTN_CD="0",
        PRVDR_PRSBNG_ID_QLFYR_CD="01",
        CLM_PRSBNG_PRVDR_GNRC_ID_NUM=PRESCRIBER,
        CLM_IDR_LD_DT=d("2023-09-01"),
        CLM_PHRMCY_SRVC_TYPE_CD="01",
    )
    base.update(kw)
    return record("CCLF7", **base)


def cclf7() -> list[str]:
    metformin = dict(
        CLM_LINE_NDC_CD="00093104801",
        CLM_LINE_FROM_DT=d("2023-01-15"),
        CLM_LINE_SRVC_UNIT_QTY=60,
        CLM_LINE_DAYS_SUPLY_QTY=30,
        CLM_LINE_RX_SRVC_RFRNC_NUM="000000123456",
        CLM_LINE_RX_FILL_NUM="0",
    )
    return [
        fill(
            "4001",
            MBI_1,
            **metformin,
            CLM_LINE_BENE_PMT_AMT="5.00",
            CLM_ADJSMT_TYPE_CD="0",
            CLM_EFCTV_DT=d("2023-01-16"),
        ),
        fill(
            "4002",
            MBI_1,
            **metformin,
            CLM_LINE_BENE_PMT_AMT="7.50",
            CLM_ADJSMT_TYPE_CD="2",
            CLM_EFCTV_DT=d("2023-02-01"),
        ),
        fill(
            "4003",
            MBI_2,
            CLM_LINE_NDC_CD="00071015523",
            CLM_LINE_FROM_DT=d("2023-07-21"),
            PRVDR_SRVC_ID_QLFYR_CD="07",
            CLM_SRVC_PRVDR_GNRC_ID_NUM="1234567",
            CLM_LINE_SRVC_UNIT_QTY=30,
            CLM_LINE_DAYS_SUPLY_QTY=30,
            CLM_LINE_RX_SRVC_RFRNC_NUM="000000777001",
            CLM_LINE_RX_FILL_NUM="2",
            CLM_LINE_BENE_PMT_AMT="12.25",
            CLM_ADJSMT_TYPE_CD="0",
            CLM_EFCTV_DT=d("2023-07-22"),
        ),
    ]


# --- beneficiaries --------------------------------------------------------------------------------


def beneficiary(mbi: str, **kw: object) -> str:
    base = dict(
        BENE_MBI_ID=mbi,
        BENE_FIPS_STATE_CD="24",
        BENE_FIPS_CNTY_CD="510",
        BENE_DEATH_DT="1000-01-01",
        BENE_RNG_BGN_DT="1000-01-01",
        BENE_RNG_END_DT="9999-12-31",
        BENE_ENTLMT_BUYIN_IND="C",
        GEO_ZIP_PLC_NAME="Baltimore",
        GEO_USPS_STATE_CD="MD",
        GEO_ZIP4_CD="1234",
    )
    base.update(kw)
    return record("CCLF8", **base)


def cclf8() -> list[str]:
    return [
        beneficiary(
            MBI_1,
            BENE_ZIP_CD="21201",
            BENE_DOB=d("1950-03-02"),
            BENE_SEX_CD="2",
            BENE_RACE_CD="1",
            BENE_AGE=73,
            BENE_MDCR_STUS_CD="10",
            BENE_DUAL_STUS_CD="NA",
            BENE_1ST_NAME="MARY",
            BENE_MIDL_NAME="A",
            BENE_LAST_NAME="SMITH",
            BENE_ORGNL_ENTLMT_RSN_CD="0",
            BENE_PART_A_ENRLMT_BGN_DT=d("2015-03-01"),
            BENE_PART_B_ENRLMT_BGN_DT=d("2015-03-01"),
            BENE_LINE_1_ADR="12 MAIN ST",
            GEO_ZIP5_CD="21201",
        ),
        beneficiary(
            MBI_2,
            BENE_ZIP_CD="21202",
            BENE_DOB=d("1975-11-20"),
            BENE_SEX_CD="1",
            BENE_RACE_CD="5",
            BENE_AGE=47,
            BENE_MDCR_STUS_CD="20",
            BENE_DUAL_STUS_CD="02",
            BENE_1ST_NAME="JOSE",
            BENE_LAST_NAME="GARCIA",
            BENE_ORGNL_ENTLMT_RSN_CD="1",
            BENE_PART_A_ENRLMT_BGN_DT=d("2023-04-01"),
            BENE_PART_B_ENRLMT_BGN_DT=d("2023-06-01"),
            BENE_LINE_1_ADR="5 HARBOR RD",
            BENE_LINE_2_ADR="APT 2",
            GEO_ZIP5_CD="21202",
        ),
        beneficiary(
            MBI_3,
            BENE_ZIP_CD="21203",
            BENE_DOB=d("1940-06-15"),
            BENE_SEX_CD="1",
            BENE_RACE_CD="2",
            BENE_AGE=83,
            BENE_MDCR_STUS_CD="10",
            BENE_DUAL_STUS_CD="NA",
            BENE_DEATH_DT=d("2023-08-15"),
            BENE_1ST_NAME="JOHN",
            BENE_LAST_NAME="BROWN",
            BENE_ORGNL_ENTLMT_RSN_CD="0",
            BENE_PART_A_ENRLMT_BGN_DT=d("2005-06-01"),
            BENE_PART_B_ENRLMT_BGN_DT=d("2005-06-01"),
            BENE_LINE_1_ADR="9 PARK AVE",
            GEO_ZIP5_CD="21203",
        ),
    ]


def cclf9() -> list[str]:
    return [
        record(
            "CCLF9",
            HICN_MBI_XREF_IND="M",
            CRNT_NUM=MBI_3,
            PRVS_NUM=MBI_3_OLD,
            PRVS_ID_EFCTV_DT=d("2019-01-01"),
            PRVS_ID_OBSLT_DT=d("2023-06-30"),
        )
    ]


FILES = {
    "ZC1": cclf1,
    "ZC2": cclf2,
    "ZC3": cclf3,
    "ZC4": cclf4,
    "ZC5": cclf5,
    "ZC6": cclf6,
    "ZC7": cclf7,
    "ZC8": cclf8,
    "ZC9": cclf9,
    "ZCA": cclfa,
}


def file_name(code: str) -> str:
    return f"{PREFIX}.{code}Y23.{FILE_DATE}"


def contents() -> dict[str, str]:
    """File name → text of every fixture file."""
    return {
        file_name(code): "".join(line + "\n" for line in make()) for code, make in FILES.items()
    }


def main() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name, text in contents().items():
        (FIXTURES / name).write_text(text, encoding="ascii", newline="\n")


if __name__ == "__main__":
    main()
