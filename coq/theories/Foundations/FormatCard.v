(** * FormatCard: the number of finite values of an IEEE binary format

    Proves the cardinality claim of THEORY.md section 1 ("Machine-representable
    numbers"): for an IEEE-style binary format with [p] significand bits (hidden
    bit included, SMT-LIB's [sb]) and [eb] exponent bits, the finite values, with
    +0 and -0 counted once and NaN / infinities excluded, number
    [2^p * (2^eb - 1) - 1]  (binary16: 63487, bfloat16: 65279,
    binary32: 4278190079).

    Formalisation: the format is Flocq's [Binary.binary_float p emax] with
    [emax = 2^(eb-1)] (so [emin = 3 - emax - p]).  The type
    [binary_float p emax] itself needs no typeclass hypothesis, so the main
    theorem [format_card] only assumes [1 <= p] and [2 <= eb]; in particular it
    also covers tiny formats such as fp(2,2).  Flocq's arithmetic operations
    (rounding, [Bplus], ...) additionally require [Prec_gt_0 p] and
    [Prec_lt_emax p emax] (i.e. [p < emax]), which excludes such tiny formats;
    that restriction is irrelevant for the count proved here.

    Proof: the positive finite values are [m * 2^e] with [(m, e)] either
    subnormal ([e = emin], [1 <= m < 2^p]: 2^p - 1 pairs) or normal
    ([emin < e <= emax - p], [2^(p-1) <= m < 2^p]: (2 emax - 3) 2^(p-1) pairs)
    ([bounded_iff]); distinct bounded pairs give distinct reals by Flocq's
    [canonical_unique]; negatives mirror them, plus 0.

    Also: [ndf_ratio], turning a count bound [c <= n * |M|^(W-1)] into the
    ratio bound [c / |M|^W <= n / |M|], instantiated for binary16/bfloat16. *)

From Coq Require Import ZArith Reals List Lia Lra.
From Flocq Require Import Core.
From Flocq Require IEEE754.Binary.
Import Flocq.IEEE754.Binary.
Open Scope Z_scope.
#[local] Set Warnings "-abstract-large-number".


(** ** List helpers *)

Lemma NoDup_app_disjoint {A} (l1 l2 : list A) :
  NoDup l1 -> NoDup l2 -> (forall x, In x l1 -> ~ In x l2) -> NoDup (l1 ++ l2).
Proof.
  induction l1 as [|a l1 IH]; intros H1 H2 Hd; simpl; auto.
  inversion H1; subst. constructor.
  - rewrite in_app_iff. intros [H|H]; [contradiction|]. apply (Hd a); simpl; auto.
  - apply IH; auto. intros x Hx. apply Hd. simpl; auto.
Qed.

Lemma NoDup_map_inj_on {A B} (f : A -> B) (l : list A) :
  (forall x y, In x l -> In y l -> f x = f y -> x = y) -> NoDup l -> NoDup (map f l).
Proof.
  induction l as [|a l IH]; intros Hi Hn; simpl; [constructor|].
  inversion Hn; subst. constructor.
  - rewrite in_map_iff. intros [y [Hy Hyl]].
    assert (y = a) by (apply Hi; simpl; auto). subst; contradiction.
  - apply IH; auto. intros x y Hx Hy. apply Hi; simpl; auto.
Qed.

Lemma NoDup_list_prod {A B} (l1 : list A) (l2 : list B) :
  NoDup l1 -> NoDup l2 -> NoDup (list_prod l1 l2).
Proof.
  induction l1 as [|a l1 IH]; intros H1 H2; simpl; [constructor|].
  inversion H1; subst. apply NoDup_app_disjoint.
  - apply NoDup_map_inj_on; auto. intros x y _ _ H; now inversion H.
  - now apply IH.
  - intros [x y] Hx Hy. apply in_map_iff in Hx. destruct Hx as [z [Hz _]].
    inversion Hz; subst. apply in_prod_iff in Hy. tauto.
Qed.

(** [zrange a n] lists the integers [a, a+1, ..., a+n-1]. *)
Definition zrange (a : Z) (n : nat) : list Z :=
  map (fun i => a + Z.of_nat i) (seq 0 n).

Lemma in_zrange a n x : In x (zrange a n) <-> a <= x < a + Z.of_nat n.
Proof.
  unfold zrange. rewrite in_map_iff. split.
  - intros [i [<- Hi]]. apply in_seq in Hi. lia.
  - intros Hx. exists (Z.to_nat (x - a)). rewrite in_seq. lia.
Qed.

Lemma NoDup_zrange a n : NoDup (zrange a n).
Proof.
  apply NoDup_map_inj_on; [intros; lia | apply seq_NoDup].
Qed.

Lemma length_zrange a n : length (zrange a n) = n.
Proof. unfold zrange. now rewrite map_length, seq_length. Qed.

(** ** Which (mantissa, exponent) pairs are bounded *)

Lemma bounded_iff (p emax : Z) (m : positive) (e : Z) :
  1 <= p -> 2 <= emax ->
  SpecFloat.bounded p emax m e = true <->
  (e = SpecFloat.emin p emax /\ Zpos m < 2 ^ p) \/
  (SpecFloat.emin p emax < e <= emax - p /\ 2 ^ (p - 1) <= Zpos m < 2 ^ p).
Proof.
  intros Hp He.
  unfold SpecFloat.bounded, SpecFloat.canonical_mantissa, SpecFloat.fexp, SpecFloat.emin.
  rewrite Bool.andb_true_iff, Zpos_digits2_pos.
  assert (Hd := Zdigits_correct radix2 (Zpos m)). simpl Z.abs in Hd.
  change (radix_val radix2) with 2 in Hd.
  set (d := Zdigits radix2 (Zpos m)) in *.
  assert (H2p : 2 ^ p = 2 * 2 ^ (p - 1)).
  { rewrite <- Z.pow_succ_r by lia. f_equal; lia. }
  split.
  - intros [H1 H2]. apply Zeq_bool_eq in H1. apply Zle_bool_imp_le in H2.
    destruct (Z.max_spec (d + e - p) (3 - emax - p)) as [[Hm Hmax]|[Hm Hmax]];
      rewrite Hmax in H1.
    + left. split; [lia|].
      assert (2 ^ d <= 2 ^ p) by (apply Z.pow_le_mono_r; lia). lia.
    + assert (d = p) by lia. rewrite H in Hd.
      destruct (Z.eq_dec e (3 - emax - p)); [left|right]; lia.
  - intros H. split; [apply Zeq_bool_true | apply Zle_bool_true].
    + destruct H as [[-> Hm]|[He1 Hm]].
      * assert (d <= p).
        { destruct (Z.le_gt_cases d p) as [|Hlt]; auto.
          assert (2 ^ p <= 2 ^ (d - 1)) by (apply Z.pow_le_mono_r; lia). lia. }
        lia.
      * assert (d = p).
        { apply Zdigits_unique. simpl Z.abs. change (radix_val radix2) with 2. lia. }
        lia.
    + lia.
Qed.

(** ** The positive finite values, as (mantissa, exponent) pairs *)

(** Subnormal-exponent pairs [(m, emin)], [1 <= m < 2^p]. *)
Definition sub_pairs (p emax : Z) : list (Z * Z) :=
  map (fun m => (m, SpecFloat.emin p emax)) (zrange 1 (Z.to_nat (2 ^ p - 1))).

(** Normal pairs [(m, e)], [2^(p-1) <= m < 2^p], [emin < e <= emax - p]. *)
Definition norm_pairs (p emax : Z) : list (Z * Z) :=
  list_prod (zrange (2 ^ (p - 1)) (Z.to_nat (2 ^ (p - 1))))
            (zrange (SpecFloat.emin p emax + 1) (Z.to_nat (emax - p - SpecFloat.emin p emax))).

Definition pos_pairs (p emax : Z) : list (Z * Z) := sub_pairs p emax ++ norm_pairs p emax.

Lemma pow2_pred_pos p : 1 <= p -> 1 <= 2 ^ (p - 1).
Proof. intros. assert (0 < 2 ^ (p - 1)) by (apply Z.pow_pos_nonneg; lia). lia. Qed.

Lemma pow2_double p : 1 <= p -> 2 ^ p = 2 * 2 ^ (p - 1).
Proof. intros. rewrite <- Z.pow_succ_r by lia. f_equal; lia. Qed.

Lemma in_pos_pairs (p emax m e : Z) :
  1 <= p -> 2 <= emax ->
  In (m, e) (pos_pairs p emax) <->
  1 <= m /\ SpecFloat.bounded p emax (Z.to_pos m) e = true.
Proof.
  intros Hp He. unfold pos_pairs, sub_pairs, norm_pairs.
  assert (H1 := pow2_pred_pos p Hp). assert (H2 := pow2_double p Hp).
  rewrite in_app_iff. split.
  - intros [H|H].
    + apply in_map_iff in H. destruct H as [m' [Heq Hin]].
      injection Heq as <- <-. apply in_zrange in Hin.
      split; [lia|]. apply bounded_iff; auto. rewrite Z2Pos.id by lia. lia.
    + apply in_prod_iff in H. rewrite !in_zrange in H. unfold SpecFloat.emin in H.
      split; [lia|]. apply bounded_iff; auto. rewrite Z2Pos.id by lia.
      unfold SpecFloat.emin. lia.
  - intros [Hm Hb]. apply bounded_iff in Hb; auto. rewrite Z2Pos.id in Hb by lia.
    destruct Hb as [[-> Hb]|Hb].
    + left. apply in_map_iff. exists m. split; [reflexivity|]. apply in_zrange. lia.
    + right. apply in_prod_iff. rewrite !in_zrange. unfold SpecFloat.emin in *. lia.
Qed.

Lemma NoDup_pos_pairs (p emax : Z) : NoDup (pos_pairs p emax).
Proof.
  unfold pos_pairs, sub_pairs, norm_pairs.
  apply NoDup_app_disjoint.
  - apply NoDup_map_inj_on; [intros x y _ _ H; now inversion H | apply NoDup_zrange].
  - apply NoDup_list_prod; apply NoDup_zrange.
  - intros [m e] H1 H2. apply in_map_iff in H1. destruct H1 as [m' [H1 _]].
    injection H1 as <- <-. apply in_prod_iff in H2. destruct H2 as [_ H2].
    apply in_zrange in H2. lia.
Qed.

Lemma length_pos_pairs (p emax : Z) :
  1 <= p -> 2 <= emax ->
  Z.of_nat (length (pos_pairs p emax)) =
  (2 ^ p - 1) + 2 ^ (p - 1) * (2 * emax - 3).
Proof.
  intros Hp He. unfold pos_pairs, sub_pairs, norm_pairs, SpecFloat.emin.
  rewrite app_length, map_length, prod_length, !length_zrange.
  assert (H1 := pow2_pred_pos p Hp). assert (H2 := pow2_double p Hp).
  rewrite Nat2Z.inj_add, Nat2Z.inj_mul, !Z2Nat.id by lia. ring.
Qed.

(** ** The finite values of [binary_float p emax] as an explicit list of reals *)

Definition signed_value (t : bool * (Z * Z)) : R :=
  F2R (Float radix2 (SpecFloat.cond_Zopp (fst t) (fst (snd t))) (snd (snd t))).

Definition signed_pairs (p emax : Z) : list (bool * (Z * Z)) :=
  list_prod (false :: true :: nil) (pos_pairs p emax).

Definition finite_values (p emax : Z) : list R :=
  0%R :: map signed_value (signed_pairs p emax).

Lemma in_signed_pairs (p emax : Z) s m e :
  1 <= p -> 2 <= emax ->
  In (s, (m, e)) (signed_pairs p emax) <->
  1 <= m /\ SpecFloat.bounded p emax (Z.to_pos m) e = true.
Proof.
  intros Hp He. unfold signed_pairs. rewrite in_prod_iff, in_pos_pairs by auto.
  destruct s; simpl; tauto.
Qed.

Lemma signed_value_inj (p emax : Z) t1 t2 :
  1 <= p -> 2 <= emax ->
  In t1 (signed_pairs p emax) -> In t2 (signed_pairs p emax) ->
  signed_value t1 = signed_value t2 -> t1 = t2.
Proof.
  intros Hp He. destruct t1 as [s1 [m1 e1]], t2 as [s2 [m2 e2]].
  rewrite !in_signed_pairs by auto. intros [Hm1 Hb1] [Hm2 Hb2] Heq.
  apply (BinarySingleNaN.canonical_bounded _ _ s1) in Hb1.
  apply (BinarySingleNaN.canonical_bounded _ _ s2) in Hb2.
  rewrite Z2Pos.id in Hb1, Hb2 by lia.
  assert (Hf := canonical_unique _ _ _ _ Hb1 Hb2 Heq).
  injection Hf as Hm He'. subst e2.
  destruct s1, s2; simpl in Hm; f_equal; try f_equal; lia.
Qed.

Lemma signed_value_neq_0 (p emax : Z) t :
  1 <= p -> 2 <= emax -> In t (signed_pairs p emax) -> signed_value t <> 0%R.
Proof.
  intros Hp He. destruct t as [s [m e]]. rewrite in_signed_pairs by auto.
  intros [Hm _]. apply F2R_neq_0. destruct s; simpl; lia.
Qed.

Lemma NoDup_finite_values (p emax : Z) :
  1 <= p -> 2 <= emax -> NoDup (finite_values p emax).
Proof.
  intros Hp He. constructor.
  - rewrite in_map_iff. intros [t [Ht Hin]].
    exact (signed_value_neq_0 p emax t Hp He Hin Ht).
  - apply NoDup_map_inj_on.
    + intros; now apply (signed_value_inj p emax).
    + apply NoDup_list_prod; [|apply NoDup_pos_pairs].
      repeat constructor; simpl; intuition discriminate.
Qed.

Lemma in_finite_values (p emax : Z) x :
  1 <= p -> 2 <= emax ->
  In x (finite_values p emax) <->
  exists f : binary_float p emax, is_finite _ _ f = true /\ B2R _ _ f = x.
Proof.
  intros Hp He. unfold finite_values. simpl. rewrite in_map_iff. split.
  - intros [<-|[[s [m e]] [<- Hin]]].
    + exists (B754_zero p emax false). split; reflexivity.
    + pose proof Hin as Hin'. apply in_signed_pairs in Hin' as [Hm Hb]; auto.
      exists (B754_finite p emax s (Z.to_pos m) e Hb). split; [reflexivity|].
      unfold signed_value; simpl. now rewrite Z2Pos.id by lia.
  - intros [f [Hf <-]]. destruct f as [s|s|s pl Hpl|s m e Hb]; try discriminate.
    + now left.
    + right. exists (s, (Zpos m, e)). split; [reflexivity|].
      apply in_signed_pairs; auto. split; [lia | exact Hb].
Qed.

Lemma length_finite_values (p emax : Z) :
  1 <= p -> 2 <= emax ->
  Z.of_nat (length (finite_values p emax)) =
  1 + 2 * ((2 ^ p - 1) + 2 ^ (p - 1) * (2 * emax - 3)).
Proof.
  intros Hp He. unfold finite_values, signed_pairs.
  cbn [length]. rewrite map_length, prod_length. cbn [length].
  rewrite Nat2Z.inj_succ, Nat2Z.inj_mul, length_pos_pairs by auto. lia.
Qed.

(** ** Main theorem *)

Theorem format_card (p eb : Z) :
  1 <= p -> 2 <= eb ->
  exists l : list R, NoDup l /\
    (forall x, In x l <->
       exists f : binary_float p (2 ^ (eb - 1)), is_finite _ _ f = true /\ B2R _ _ f = x) /\
    Z.of_nat (length l) = 2 ^ p * (2 ^ eb - 1) - 1.
Proof.
  intros Hp Heb.
  assert (He : 2 <= 2 ^ (eb - 1)).
  { rewrite <- (Z.pow_1_r 2) at 1. apply Z.pow_le_mono_r; lia. }
  exists (finite_values p (2 ^ (eb - 1))). split; [|split].
  - now apply NoDup_finite_values.
  - intros x. now apply in_finite_values.
  - rewrite length_finite_values by auto.
    rewrite (pow2_double p Hp), (pow2_double eb) by lia. ring.
Qed.

(** The same count for Flocq's NaN-payload-free type
    [BinarySingleNaN.binary_float] (its finite floats are the same). *)
Theorem format_card_single_nan (p eb : Z) :
  1 <= p -> 2 <= eb ->
  exists l : list R, NoDup l /\
    (forall x, In x l <->
       exists f : BinarySingleNaN.binary_float p (2 ^ (eb - 1)),
         @BinarySingleNaN.is_finite p (2 ^ (eb - 1)) f = true /\
         @BinarySingleNaN.B2R p (2 ^ (eb - 1)) f = x) /\
    Z.of_nat (length l) = 2 ^ p * (2 ^ eb - 1) - 1.
Proof.
  intros Hp Heb. destruct (format_card p eb Hp Heb) as [l [Hn [Hin Hl]]].
  exists l. split; [exact Hn|]. split; [|exact Hl].
  intros x. rewrite Hin. split.
  - intros [f [Hf <-]]. exists (B2BSN _ _ f).
    rewrite B2R_B2BSN. split; [|reflexivity]. destruct f; easy.
  - intros [f [Hf <-]]. destruct f as [s|s| |s m e Hb]; try discriminate.
    + exists (B754_zero _ _ s). split; reflexivity.
    + exists (B754_finite _ _ s m e Hb). split; reflexivity.
Qed.

(** ** Concrete formats (emax = 2^(eb-1): binary16 emax = 16, bfloat16 and
    binary32 emax = 128) *)

Theorem format_card_binary16 :
  exists l : list R, NoDup l /\
    (forall x, In x l <->
       exists f : binary_float 11 16, is_finite _ _ f = true /\ B2R _ _ f = x) /\
    Z.of_nat (length l) = 63487.
Proof. exact (format_card 11 5 ltac:(lia) ltac:(lia)). Qed.

Theorem format_card_bfloat16 :
  exists l : list R, NoDup l /\
    (forall x, In x l <->
       exists f : binary_float 8 128, is_finite _ _ f = true /\ B2R _ _ f = x) /\
    Z.of_nat (length l) = 65279.
Proof. exact (format_card 8 8 ltac:(lia) ltac:(lia)). Qed.

Theorem format_card_binary32 :
  exists l : list R, NoDup l /\
    (forall x, In x l <->
       exists f : binary_float 24 128, is_finite _ _ f = true /\ B2R _ _ f = x) /\
    Z.of_nat (length l) = 4278190079.
Proof. exact (format_card 24 8 ltac:(lia) ltac:(lia)). Qed.

(** The same two 16-bit counts with [length] as a [nat], ready for [ndf_ratio]. *)
Lemma length_nat_of_Z (l : list R) (k : nat) :
  Z.of_nat (length l) = Z.of_nat k -> length l = k.
Proof. apply Nat2Z.inj. Qed.

Theorem format_card_binary16_nat :
  exists l : list R, NoDup l /\
    (forall x, In x l <->
       exists f : binary_float 11 16, is_finite _ _ f = true /\ B2R _ _ f = x) /\
    length l = 63487%nat.
Proof.
  destruct format_card_binary16 as [l [Hn [Hin Hl]]].
  exists l. split; [exact Hn|]. split; [exact Hin|]. now apply length_nat_of_Z.
Qed.

Theorem format_card_bfloat16_nat :
  exists l : list R, NoDup l /\
    (forall x, In x l <->
       exists f : binary_float 8 128, is_finite _ _ f = true /\ B2R _ _ f = x) /\
    length l = 65279%nat.
Proof.
  destruct format_card_bfloat16 as [l [Hn [Hin Hl]]].
  exists l. split; [exact Hn|]. split; [exact Hin|]. now apply length_nat_of_Z.
Qed.

(** ** From a count bound to a ratio bound *)

Lemma ndf_ratio (M n W c : nat) :
  (0 < M)%nat -> (1 <= W)%nat -> (c <= n * M ^ (W - 1))%nat ->
  (INR c / INR (M ^ W) <= INR n / INR M)%R.
Proof.
  intros HM HW Hc.
  replace W with (S (W - 1)) by lia. rewrite Nat.pow_succ_r', mult_INR.
  apply le_INR in Hc. rewrite mult_INR in Hc.
  assert (HM' : (0 < INR M)%R) by (apply lt_0_INR; exact HM).
  assert (Hq : (0 < INR (M ^ (W - 1)))%R)
    by (apply lt_0_INR, Nat.neq_0_lt_0, Nat.pow_nonzero; lia).
  set (q := INR (M ^ (W - 1))) in *.
  apply (Rmult_le_reg_r (INR M * q)); [apply Rmult_lt_0_compat; assumption|].
  replace (INR c / (INR M * q) * (INR M * q))%R with (INR c) by (field; lra).
  replace (INR n / INR M * (INR M * q))%R with (INR n * q)%R by (field; lra).
  exact Hc.
Qed.

Lemma ndf_ratio_binary16 (n W c : nat) :
  (1 <= W)%nat -> (c <= n * 63487 ^ (W - 1))%nat ->
  (INR c / INR (63487 ^ W) <= INR n / 63487)%R.
Proof.
  intros HW Hc.
  replace 63487%R with (INR 63487) by (rewrite INR_IZR_INZ; reflexivity).
  apply ndf_ratio; auto. apply Nat.lt_0_succ.
Qed.

Lemma ndf_ratio_bfloat16 (n W c : nat) :
  (1 <= W)%nat -> (c <= n * 65279 ^ (W - 1))%nat ->
  (INR c / INR (65279 ^ W) <= INR n / 65279)%R.
Proof.
  intros HW Hc.
  replace 65279%R with (INR 65279) by (rewrite INR_IZR_INZ; reflexivity).
  apply ndf_ratio; auto. apply Nat.lt_0_succ.
Qed.
