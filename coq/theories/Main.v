(* Main.v: the paper's theorems under paper-facing names (THEORY.md section 5),
   each restated in full and proved by the development in theories/.
   `make check-proofs` audits every theorem of this file through Assumptions.v. *)
From Coq Require Import ZArith Reals List.
From Flocq Require Import Core.
From Flocq Require IEEE754.Binary.
Import Flocq.IEEE754.Binary.
From ADCorrect Require FormatCard.
Import ListNotations.

(* ---- THEORY.md section 1: |M| for IEEE-style formats --------------------- *)

(* |M| = 2^p (2^eb - 1) - 1 distinct finite values (+0 = -0, no NaN/inf). *)
Theorem format_card (p eb : Z) :
  (1 <= p)%Z -> (2 <= eb)%Z ->
  exists l : list R, NoDup l /\
    (forall x, In x l <->
       exists f : binary_float p (2 ^ (eb - 1)), is_finite _ _ f = true /\ B2R _ _ f = x) /\
    Z.of_nat (length l) = (2 ^ p * (2 ^ eb - 1) - 1)%Z.
Proof. exact (FormatCard.format_card p eb). Qed.

Theorem format_card_binary16 :
  exists l : list R, NoDup l /\
    (forall x, In x l <->
       exists f : binary_float 11 16, is_finite _ _ f = true /\ B2R _ _ f = x) /\
    Z.of_nat (length l) = 63487%Z.
Proof. exact FormatCard.format_card_binary16. Qed.

Theorem format_card_bfloat16 :
  exists l : list R, NoDup l /\
    (forall x, In x l <->
       exists f : binary_float 8 128, is_finite _ _ f = true /\ B2R _ _ f = x) /\
    Z.of_nat (length l) = 65279%Z.
Proof. exact FormatCard.format_card_bfloat16. Qed.

Theorem format_card_binary32 :
  exists l : list R, NoDup l /\
    (forall x, In x l <->
       exists f : binary_float 24 128, is_finite _ _ f = true /\ B2R _ _ f = x) /\
    Z.of_nat (length l) = 4278190079%Z.
Proof. exact FormatCard.format_card_binary32. Qed.
