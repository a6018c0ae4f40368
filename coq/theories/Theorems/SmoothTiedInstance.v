(* Non-vacuity of T7 over smooth pre-activations (THEORY.md section 8.1,
   "Tied networks", with LayerNorm as tau; issue 18, items 1 and 3).
   Parameters w0, w1, b; neurons z0 = w0, z1 = w1 (identity), then one class
   of two relu neurons sharing the bias b:
     y2 = b + LN(z0, z1)_0,  y3 = b + LN(z0, z1)_1   (LayerNorm.v, eps = 1),
   output f = w0 (z2 + z3).  It is a tied-bias smooth-tau network (classes
   0, 1, 2, 2; bias b of class 2), and not a bias network (b enters two
   neurons).  At (1, 1, 0) both relu neurons sit on their kink and f is not
   differentiable (f = 2 relu(b) along b); at 0 both sit on their kink and
   f is differentiable (the adjoints vanish: w0 = 0). *)
From Coq Require Import Reals Lra Lia List Arith.
From ADCorrect Require Import Vec Frechet OneSided Activation Network AD C1Output C1Algebra
  LayerNorm SmoothTau SmoothTauTheorems SmoothTied.
Import ListNotations.
Open Scope R_scope.

Definition lnt_W : nat := 3.
Definition lnt_N : nat := 4.

Lemma lnt_two_pos : (0 < 2)%nat.
Proof. lia. Qed.

Definition lnt_ln (i : nat) : c1_output lnt_W lnt_N :=
  layernorm 1 lnt_W lnt_N 2 (fun j => j) i Rlt_0_1 lnt_two_pos.

Definition lnt_tau (k : nat) : c1_output lnt_W lnt_N :=
  match k with
  | O => c1_coord0 lnt_W lnt_N 0
  | 1%nat => c1_coord0 lnt_W lnt_N 1
  | 2%nat => c1_plus lnt_W lnt_N (c1_coord0 lnt_W lnt_N 2) (lnt_ln 0)
  | _ => c1_plus lnt_W lnt_N (c1_coord0 lnt_W lnt_N 2) (lnt_ln 1)
  end.

Definition lnt_sigma (k : nat) : activation := if lt_dec k 2 then act_id else relu.

(* f = w0 (z2 + z3) *)
Definition lnt_out : c1_output lnt_W lnt_N :=
  c1_mult lnt_W lnt_N (c1_coord0 lnt_W lnt_N 0)
    (c1_plus lnt_W lnt_N (c1_coord0 lnt_W lnt_N 5) (c1_coord0 lnt_W lnt_N 6)).

Definition lnt_net : st_network := mk_st_network lnt_W lnt_N lnt_tau lnt_sigma lnt_out.

Definition lnt_cls (k : nat) : nat := if lt_dec k 2 then k else 2%nat.
Definition lnt_bias (K : nat) : nat := 2%nat.

(** * Values *)

Lemma ln_formula_ext eps n x x' i : (i < n)%nat -> (forall j, (j < n)%nat -> x j = x' j) ->
  ln_formula eps n x i = ln_formula eps n x' i.
Proof.
  intros Hi Hx.
  assert (Hm : ln_mean n x = ln_mean n x') by (unfold ln_mean; rewrite (sumn_ext n x x') by exact Hx; reflexivity).
  unfold ln_formula, ln_var; rewrite Hm, (Hx i Hi); do 4 f_equal.
  apply sumn_ext; intros j Hj; rewrite (Hx j Hj); reflexivity.
Qed.

Lemma ln_formula_equal eps x i : (i < 2)%nat -> x 0%nat = x 1%nat -> ln_formula eps 2 x i = 0.
Proof.
  intros Hi Hx; unfold ln_formula.
  replace (x i - ln_mean 2 x) with 0; [unfold Rdiv; ring|].
  unfold ln_mean; rewrite !sumn_S; unfold sumn; simpl.
  destruct i as [|[|i]]; [| |lia]; rewrite ?Hx; field.
Qed.

Lemma lnt_ln_g i u : (i < 2)%nat -> c1_g (lnt_ln i) u = ln_formula 1 2 (fun j => u (3 + j)%nat) i.
Proof.
  intros Hi; unfold lnt_ln; rewrite layernorm_eval by (exact Hi || (intros; unfold lnt_N; lia)).
  reflexivity.
Qed.

Lemma lnt_tau_ln i u : (i < 2)%nat ->
  c1_g (lnt_tau (2 + i)) u = u 2%nat + ln_formula 1 2 (fun j => u (3 + j)%nat) i.
Proof.
  intros Hi; rewrite <- lnt_ln_g by exact Hi.
  destruct i as [|[|i]]; [| |lia]; cbn [Nat.add lnt_tau]; unfold c1_plus; cbn [c1_g]; rewrite c1_coord0_g by (unfold lnt_W, lnt_N; lia); reflexivity.
Qed.

Lemma lnt_post v k : (k < 2)%nat -> st_post lnt_net v k = v k.
Proof.
  intros Hk; unfold st_post, st_preact, st_point.
  destruct k as [|[|k]]; [| |lia]; cbn [st_tau st_sigma lnt_net lnt_tau]; unfold lnt_sigma;
    (match goal with |- context [lt_dec ?a 2] => destruct (lt_dec a 2); [|lia] end); rewrite act_id_eval, c1_coord0_g by (unfold lnt_W, lnt_N; lia);
    apply pack_lt; cbn [st_W lnt_net]; unfold lnt_W; lia.
Qed.

Lemma lnt_preact v i : (i < 2)%nat ->
  st_preact lnt_net v (2 + i) = v 2%nat + ln_formula 1 2 v i.
Proof.
  intros Hi; unfold st_preact, st_point; cbn [st_tau lnt_net st_W].
  rewrite lnt_tau_ln by exact Hi; unfold lnt_W; rewrite pack_lt by lia; f_equal.
  apply ln_formula_ext; [exact Hi|]; intros j Hj.
  rewrite pack_ge, st_zvals_lt by lia; apply lnt_post, Hj.
Qed.

Lemma lnt_relu_post v i : (i < 2)%nat ->
  st_post lnt_net v (2 + i) = Rmax 0 (v 2%nat + ln_formula 1 2 v i).
Proof.
  intros Hi; unfold st_post; rewrite lnt_preact by exact Hi.
  cbn [st_sigma lnt_net lnt_sigma]; destruct (lt_dec (2 + i) 2); [lia|]; apply relu_eval.
Qed.

Lemma lnt_eval v :
  st_eval lnt_net v = v 0%nat * (Rmax 0 (v 2%nat + ln_formula 1 2 v 0) + Rmax 0 (v 2%nat + ln_formula 1 2 v 1)).
Proof.
  unfold st_eval; cbn [st_out lnt_net lnt_out c1_mult c1_plus c1_g st_W].
  rewrite !c1_coord0_g by (unfold lnt_W, lnt_N; lia).
  unfold lnt_W; rewrite pack_lt by lia.
  replace 5%nat with (3 + 2)%nat by reflexivity; replace 6%nat with (3 + 3)%nat by reflexivity.
  rewrite !pack_ge; unfold st_zvec; cbn [st_N lnt_net]; unfold lnt_N.
  rewrite !st_zvals_lt by lia.
  rewrite <- (lnt_relu_post v 0), <- (lnt_relu_post v 1) by lia; reflexivity.
Qed.

(** * The hypotheses of T7 *)

Lemma lnt_tau_upd_b k u t : (2 <= k)%nat ->
  c1_g (lnt_tau k) (upd u 2 t) = c1_g (lnt_tau k) u + (t - u 2%nat).
Proof.
  intros Hk; destruct (lt_dec k 3) as [H3|H3].
  - replace k with (2 + 0)%nat by lia; rewrite !lnt_tau_ln by lia; rewrite Vec.upd_same.
    rewrite (ln_formula_ext 1 2 (fun j => upd u 2 t (3 + j)%nat) (fun j => u (3 + j)%nat)) by
      (lia || (intros j Hj; rewrite Vec.upd_other by lia; reflexivity)); ring.
  - assert (E : forall v, c1_g (lnt_tau k) v = c1_g (lnt_tau (2 + 1)) v)
      by (intros v; destruct k as [|[|[|k]]]; [lia|lia|lia|reflexivity]).
    rewrite !E, !lnt_tau_ln by lia; rewrite Vec.upd_same.
    rewrite (ln_formula_ext 1 2 (fun j => upd u 2 t (3 + j)%nat) (fun j => u (3 + j)%nat)) by
      (lia || (intros j Hj; rewrite Vec.upd_other by lia; reflexivity)); ring.
Qed.

Lemma lnt_tau3_upd_z2 u t : c1_g (lnt_tau 3) (upd u (3 + 2) t) = c1_g (lnt_tau 3) u.
Proof.
  change 3%nat with (2 + 1)%nat at 1 3; rewrite !lnt_tau_ln by lia.
  rewrite Vec.upd_other by lia; f_equal;
    try (apply ln_formula_ext; [lia|]; intros j Hj; rewrite Vec.upd_other by lia; reflexivity).
Qed.

Theorem lnt_tied : st_tied_bias lnt_net lnt_cls lnt_bias.
Proof.
  split.
  - intros c j Hc Hjc Hcls u t; cbn [st_N lnt_net st_tau st_W] in *; unfold lnt_N, lnt_W in *.
    unfold lnt_cls in Hcls.
    destruct (lt_dec c 2), (lt_dec j 2); try lia.
    replace c with 3%nat by lia; replace j with 2%nat by lia; apply lnt_tau3_upd_z2.
  - intros c Hc Hk; cbn [st_N st_sigma lnt_net] in Hc, Hk; unfold lnt_N in Hc.
    unfold lnt_sigma in Hk; destruct (lt_dec c 2) as [|Hc2]; [rewrite act_id_kinks in Hk; congruence|].
    unfold lnt_bias; split; [cbn; unfold lnt_W; lia|].
    intros c' Hc'; cbn [st_N st_tau lnt_net] in Hc' |- *; unfold lnt_N in Hc'; unfold lnt_cls.
    destruct (lt_dec c 2); [lia|]; split.
    + intros Hcl u t; destruct (lt_dec c' 2); [lia|]; apply lnt_tau_upd_b; lia.
    + intros Hne u t; destruct (lt_dec c' 2) as [Hc'2|]; [|congruence].
      destruct c' as [|[|c']]; [| |lia]; cbn [lnt_tau];
        rewrite !c1_coord0_g by (unfold lnt_W, lnt_N; lia); apply Vec.upd_other; lia.
Qed.

(** * A point of non-differentiability and a kinked point of differentiability *)

Definition lnt_w1 : vec := fun i => match i with O | 1%nat => 1 | _ => 0 end.

Lemma lnt_kinked v i : (i < 2)%nat -> v 0%nat = v 1%nat -> v 2%nat = 0 ->
  In (2 + i)%nat (st_kink_neurons lnt_net v).
Proof.
  intros Hi H01 H2; unfold st_kink_neurons; apply filter_In; split; [apply in_seq; cbn; unfold lnt_N; lia|].
  rewrite lnt_preact, ln_formula_equal, H2 by assumption.
  cbn [st_sigma lnt_net]; unfold lnt_sigma; destruct (lt_dec (2 + i) 2); [lia|]; rewrite relu_kinks.
  replace (0 + 0) with 0 by ring; destruct (in_dec Req_EM_T 0 [0]) as [|Hn]; [reflexivity | exfalso; apply Hn; now left].
Qed.

Lemma lnt_eval_w1 t : st_eval lnt_net (upd lnt_w1 2 (lnt_w1 2%nat + t)) = 2 * Rmax 0 t.
Proof.
  rewrite lnt_eval, !ln_formula_equal by (lia || (rewrite !Vec.upd_other by lia; reflexivity)).
  rewrite Vec.upd_same, Vec.upd_other by lia; cbn; replace (0 + t + 0) with t by ring; ring.
Qed.

Lemma lnt_not_differentiable : ~ differentiable 3 (st_eval lnt_net) lnt_w1.
Proof.
  apply (one_sided_differ_not_differentiable 3 _ lnt_w1 2 2 0); [lia| | |lra].
  - intros eps Heps; exists 1; split; [lra|]; intros t Ht.
    rewrite !lnt_eval_w1, Rplus_0_l, Rmax_right, Rmax_left by lra.
    replace ((2 * t - 2 * 0) / t - 2) with 0 by (field; lra); rewrite Rabs_R0; lra.
  - intros eps Heps; exists 1; split; [lra|]; intros t Ht.
    rewrite !lnt_eval_w1, Rplus_0_l, Rmax_left, Rmax_left by lra.
    replace ((2 * 0 - 2 * 0) / t - 0) with 0 by (field; lra); rewrite Rabs_R0; lra.
Qed.

Lemma lnt_dgz w k : w 0%nat = 0 -> st_dgz lnt_net w k = 0.
Proof.
  intros Hw; unfold st_dgz; cbn [st_out st_W lnt_net]; unfold lnt_out, c1_mult; cbn [c1_g c1_dg].
  unfold vadd, vscale; rewrite c1_coord0_g, c1_coord0_dg by (unfold lnt_W, lnt_N; lia).
  unfold lnt_W; rewrite pack_lt by lia; rewrite Hw; unfold unit_vec.
  destruct (Nat.eq_dec (3 + k) 0); [lia | ring].
Qed.

Lemma lnt_not_NS D : ~ st_NS lnt_net D vzero.
Proof.
  intros [k [Hk Hz]]; apply st_kink_neurons_spec in Hk as [Hk Hin].
  cbn [st_N st_sigma lnt_net] in Hk, Hin; unfold lnt_N in Hk; unfold lnt_sigma in Hin.
  destruct (lt_dec k 2); [rewrite act_id_kinks in Hin; destruct Hin|].
  assert (Hz3 : st_zbar lnt_net D vzero 3 = 0).
  { rewrite (proj1 (st_ad_equations lnt_net D vzero 3 0 ltac:(cbn; unfold lnt_N; lia))).
    rewrite lnt_dgz by reflexivity; cbn; ring. }
  apply Hz; destruct (Nat.eq_dec k 3) as [->|Hk3]; [exact Hz3|]; replace k with 2%nat by lia.
  rewrite (proj1 (st_ad_equations lnt_net D vzero 2 0 ltac:(cbn; unfold lnt_N; lia))).
  change (st_N lnt_net) with 4%nat; cbn [Nat.sub seq map sum_list fold_right].
  rewrite (proj1 (proj2 (st_ad_equations lnt_net D vzero 3 0 ltac:(cbn; unfold lnt_N; lia)))), Hz3.
  rewrite lnt_dgz by reflexivity; cbn; ring.
Qed.

Lemma lnt_differentiable : differentiable 3 (st_eval lnt_net) vzero.
Proof.
  exists (st_ad lnt_net (fun _ => 0) vzero).
  exact (T5b_st_not_NS_differentiable lnt_net (fun _ => 0) vzero (lnt_not_NS _)).
Qed.
