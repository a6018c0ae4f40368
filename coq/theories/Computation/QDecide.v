(* Deciding differentiability at rational points by computation (THEORY.md
   sections 4-5; issue 10, item 9).  For a network over Q:
   - [qwf]: a boolean test of well-formedness ([wf] of Network.v);
   - [qsplit]: tau_k = a * w_p + r with p not in a, r (an exclusive affine
     parameter, THEORY.md section 3), and [qperturbable];
   - [qstatus]: at a rational point u, "not NS" gives "differentiable with
     gradient AD" (T5(b)); NS whose topmost kink neuron with a non-zero
     adjoint is perturbable gives "not differentiable" (T5(c)); anything
     else is left to a fallback, proved separately for the network at hand.
   Counting: the numbers of non-differentiable points ([ndf_count]), of
   points where AD is wrong although f is differentiable ([inc_count]) and
   of NS points ([ns_count]) in M^W, computed by [qtally] and [qns_tally]. *)
From Coq Require Import Reals QArith Qreals Lra Lia List Arith.
From ADCorrect Require Import Vec Frechet Activation Network AD Counting.
From ADCorrect Require T5b T3.
From ADCorrect Require Import QAct QNet QAD.
Import ListNotations.

(** * The counted sets (THEORY.md section 4) *)

(* |ndf_M(f)|: parameter vectors in M^W where f is not differentiable *)
Definition ndf_count (net : network) (M : list R) : nat :=
  count (fun u => ~ differentiable (n_params net) (net_eval net) (word_vec u))
    (words M (n_params net)).

(* |inc_M(f)|: f differentiable with gradient g, and AD_D f differs from g *)
Definition inc_count (net : network) (D : nat -> R) (M : list R) : nat :=
  count (fun u => exists g, differentiable_at (n_params net) (net_eval net) (word_vec u) g /\
                    exists p, (p < n_params net)%nat /\ ad net D (word_vec u) p <> g p)
    (words M (n_params net)).

(* |{w in M^W : NS(w)}| *)
Definition ns_count (net : network) (D : nat -> R) (M : list R) : nat :=
  count (fun u => NS net D (word_vec u)) (words M (n_params net)).

(* T3 on counts: for bias networks, |ndf_M(f)| = |{w in M^W : NS(w)}| for every D *)
Theorem ndf_count_eq_ns_count (net : network) (D : nat -> R) (M : list R) :
  wf net -> bias_network net -> ndf_count net M = ns_count net D M.
Proof.
  intros Hwf Hb; unfold ndf_count, ns_count; apply count_ext; intros u _.
  apply T3.T3; assumption.
Qed.

(** * Boolean tests on expressions *)

Fixpoint qoccurs_param (p : nat) (e : qexpr) : bool :=
  match e with
  | QParam q => Nat.eqb q p
  | QAdd e1 e2 | QMul e1 e2 => qoccurs_param p e1 || qoccurs_param p e2
  | _ => false
  end.

Fixpoint qneurons_below (k : nat) (e : qexpr) : bool :=
  match e with
  | QNeuron j => Nat.ltb j k
  | QAdd e1 e2 | QMul e1 e2 => qneurons_below k e1 && qneurons_below k e2
  | _ => true
  end.

Fixpoint qparams_below (W : nat) (e : qexpr) : bool :=
  match e with
  | QParam p => Nat.ltb p W
  | QAdd e1 e2 | QMul e1 e2 => qparams_below W e1 && qparams_below W e2
  | _ => true
  end.

Definition qwf (n : qnet) : bool :=
  forallb (fun k => qneurons_below k (qtau n k) && qparams_below (q_params n) (qtau n k))
    (seq 0 (qsize n)) &&
  qneurons_below (qsize n) (q_out n) && qparams_below (q_params n) (q_out n).

Open Scope Q_scope.

(* e = a * w_p + r with p in neither a nor r, if e is affine in w_p *)
Fixpoint qsplit (p : nat) (e : qexpr) : option (qexpr * qexpr) :=
  match e with
  | QParam q => if Nat.eqb q p then Some (QConst 1, QConst 0) else Some (QConst 0, e)
  | QAdd e1 e2 =>
      match qsplit p e1, qsplit p e2 with
      | Some (a1, r1), Some (a2, r2) => Some (QAdd a1 a2, QAdd r1 r2)
      | _, _ => None
      end
  | QMul e1 e2 =>
      if qoccurs_param p e1 then
        if qoccurs_param p e2 then None else
        match qsplit p e1 with Some (a1, r1) => Some (QMul a1 e2, QMul r1 e2) | None => None end
      else
        match qsplit p e2 with Some (a2, r2) => Some (QMul e1 a2, QMul e1 r2) | None => None end
  | _ => Some (QConst 0, e)
  end.

(* p is exclusive to neuron k: in tau_k only, not in g *)
Definition qexclusive (n : qnet) (p k : nat) : bool :=
  Nat.ltb p (q_params n) && Nat.ltb k (qsize n) &&
  forallb (fun j => Nat.eqb j k || negb (qoccurs_param p (qtau n j))) (seq 0 (qsize n)) &&
  negb (qoccurs_param p (q_out n)).

(* the exclusive affine parameters (p, a) of neuron k: tau_k = a * w_p + r;
   they do not depend on the point, so [qtally] computes them once *)
Definition qexcl_params (n : qnet) (k : nat) : list (nat * qexpr) :=
  flat_map (fun p => if qexclusive n p k then
                       match qsplit p (qtau n k) with Some (a, _) => [(p, a)] | None => [] end
                     else [])
    (seq 0 (q_params n)).

Definition qexcl_table (n : qnet) : list (list (nat * qexpr)) :=
  map (qexcl_params n) (seq 0 (qsize n)).

(* neuron k is perturbable at u (zs = qzvec n u): some a_k(u) <> 0 *)
Definition qperturbable (n : qnet) (tbl : list (list (nat * qexpr))) (u zs : list Q) (k : nat) : bool :=
  existsb (fun pa => negb (Qeq_bool (qeval (q_input n) u (firstn k zs) (snd pa)) 0)) (nth k tbl []).

(* the hypothesis of T5(c): the topmost kink neuron with a non-zero adjoint
   is perturbable (checked for every kink neuron that could be it) *)
Definition qtopmost_perturbable (n : qnet) (tbl : list (list (nat * qexpr))) (u zs yb : list Q) : bool :=
  let K := qkink_neurons n u zs in
  let nz k := negb (Qeq_bool (qzbar_from n u zs yb k) 0) in
  forallb (fun k => negb (nz k) || existsb (fun j => Nat.ltb k j && nz j) K ||
                    qperturbable n tbl u zs k) K.

(** * Status of a point *)

Inductive status : Type :=
  | DiffAD                (* differentiable, with gradient AD_D f *)
  | Diff (g : list Q)     (* differentiable, with gradient g *)
  | NotDiff               (* not differentiable *)
  | Unknown.

Definition qclassify (n : qnet) (tbl : list (list (nat * qexpr))) (dq u : list Q) : status :=
  let zs := qzvec n u in
  let yb := qybar n u zs dq in
  if negb (qNS_from n u zs yb) then DiffAD
  else if qtopmost_perturbable n tbl u zs yb then NotDiff else Unknown.

(* the fallback fb decides the points the classifier leaves open *)
Definition qstatus (n : qnet) (tbl : list (list (nat * qexpr))) (dq : list Q)
    (fb : list Q -> status) (u : list Q) : status :=
  match qclassify n tbl dq u with Unknown => fb u | s => s end.

Fixpoint qwords (M : list Q) (W : nat) : list (list Q) :=
  match W with
  | O => [[]]
  | S W' => flat_map (fun a => map (cons a) (qwords M W')) M
  end.

Definition ad_differs (W : nat) (ad g : list Q) : bool :=
  existsb (fun p => negb (Qeq_bool (nth p ad 0) (nth p g 0))) (seq 0 W).

(* (ndf, inc) over M^W, if every point is decided *)
Definition qtally (n : qnet) (dq : list Q) (fb : list Q -> status) (M : list Q) : option (nat * nat) :=
  let tbl := qexcl_table n in
  fold_right (fun u acc =>
      match acc with
      | None => None
      | Some (a, b) =>
          match qstatus n tbl dq fb u with
          | Unknown => None
          | NotDiff => Some (S a, b)
          | DiffAD => Some (a, b)
          | Diff g => Some (a, if ad_differs (q_params n) (qad n dq u) g then S b else b)
          end
      end)
    (Some (O, O)) (qwords M (q_params n)).

Definition qns_tally (n : qnet) (dq M : list Q) : nat :=
  length (filter (qNS n dq) (qwords M (q_params n))).

(* the fallback that decides nothing *)
Definition no_fallback (u : list Q) : status := Unknown.

Close Scope Q_scope.
Open Scope R_scope.

(** * Expressions *)

Lemma qoccurs_param_correct (p : nat) (e : qexpr) :
  occurs_param p (to_expr e) <-> qoccurs_param p e = true.
Proof.
  induction e; simpl; try (split; [tauto | discriminate]).
  - rewrite Nat.eqb_eq; tauto.
  - rewrite Bool.orb_true_iff, IHe1, IHe2; tauto.
  - rewrite Bool.orb_true_iff, IHe1, IHe2; tauto.
Qed.

Lemma qneurons_below_correct (k : nat) (e : qexpr) :
  qneurons_below k e = true -> neurons_below k (to_expr e).
Proof.
  unfold neurons_below; induction e; simpl; intros H m Hj; try tauto.
  - apply Nat.ltb_lt; congruence.
  - apply Bool.andb_true_iff in H; destruct Hj; [apply IHe1 | apply IHe2]; tauto.
  - apply Bool.andb_true_iff in H; destruct Hj; [apply IHe1 | apply IHe2]; tauto.
Qed.

Lemma qparams_below_correct (W : nat) (e : qexpr) :
  qparams_below W e = true -> params_below W (to_expr e).
Proof.
  unfold params_below; induction e; simpl; intros H m Hq; try tauto.
  - apply Nat.ltb_lt; congruence.
  - apply Bool.andb_true_iff in H; destruct Hq; [apply IHe1 | apply IHe2]; tauto.
  - apply Bool.andb_true_iff in H; destruct Hq; [apply IHe1 | apply IHe2]; tauto.
Qed.

Theorem qwf_correct (n : qnet) : qwf n = true -> wf (to_network n).
Proof.
  unfold qwf, wf; rewrite !Bool.andb_true_iff, forallb_forall.
  intros [[Hk Hb] Hp]; rewrite !to_network_size; split; [|split].
  - intros k Hlt; assert (Hin : In k (seq 0 (qsize n))) by (apply in_seq; lia).
    specialize (Hk k Hin).
    apply Bool.andb_true_iff in Hk; rewrite to_network_tau by exact Hlt.
    split; [apply qneurons_below_correct | apply qparams_below_correct]; tauto.
  - apply qneurons_below_correct, Hb.
  - apply qparams_below_correct, Hp.
Qed.

Lemma qsplit_correct (p : nat) (e : qexpr) (a r : qexpr) :
  qsplit p e = Some (a, r) ->
  qoccurs_param p a = false /\ qoccurs_param p r = false /\
  forall X Wv Z, eval X Wv Z (to_expr e) = eval X Wv Z (to_expr a) * Wv p + eval X Wv Z (to_expr r).
Proof.
  revert a r; induction e as [q|q|i|j|e1 IH1 e2 IH2|e1 IH1 e2 IH2]; intros a r H; simpl in H.
  - injection H as <- <-; simpl; repeat split; intros; rewrite Q2R_0; ring.
  - destruct (Nat.eqb_spec q p) as [->|Hne]; injection H as <- <-; simpl.
    + repeat split; intros; rewrite Q2R_0, Q2R_1; ring.
    + apply Nat.eqb_neq in Hne; repeat split; [exact Hne|]; intros; rewrite Q2R_0; ring.
  - injection H as <- <-; simpl; repeat split; intros; rewrite Q2R_0; ring.
  - injection H as <- <-; simpl; repeat split; intros; rewrite Q2R_0; ring.
  - destruct (qsplit p e1) as [[a1 r1]|], (qsplit p e2) as [[a2 r2]|]; try discriminate.
    injection H as <- <-.
    destruct (IH1 a1 r1 eq_refl) as [Ha1 [Hr1 E1]], (IH2 a2 r2 eq_refl) as [Ha2 [Hr2 E2]].
    simpl; rewrite Ha1, Ha2, Hr1, Hr2; repeat split; intros; rewrite E1, E2; ring.
  - destruct (qoccurs_param p e1) eqn:O1.
    + destruct (qoccurs_param p e2) eqn:O2; [discriminate|].
      destruct (qsplit p e1) as [[a1 r1]|]; [|discriminate]; injection H as <- <-.
      destruct (IH1 a1 r1 eq_refl) as [Ha1 [Hr1 E1]].
      simpl; rewrite Ha1, Hr1, O2; repeat split; intros; rewrite E1; ring.
    + destruct (qsplit p e2) as [[a2 r2]|]; [|discriminate]; injection H as <- <-.
      destruct (IH2 a2 r2 eq_refl) as [Ha2 [Hr2 E2]].
      simpl; rewrite Ha2, Hr2, O1; repeat split; intros; rewrite E2; ring.
Qed.

(** * Perturbable neurons and T5(c)'s hypothesis *)

Section Point.
Variables (n : qnet) (u : list Q).

Local Notation net := (to_network n).
Local Notation wv := (qpoint u).
Local Notation zs := (qzvec n u).

Lemma qnot_occurs (p : nat) (e : qexpr) :
  qoccurs_param p e = false -> ~ occurs_param p (to_expr e).
Proof. rewrite qoccurs_param_correct; congruence. Qed.

Lemma qexcl_params_correct (k p : nat) (a : qexpr) :
  In (p, a) (qexcl_params n k) ->
  qexclusive n p k = true /\ exists r, qsplit p (qtau n k) = Some (a, r).
Proof.
  unfold qexcl_params; rewrite in_flat_map; intros [q [_ H]].
  destruct (qexclusive n q k) eqn:Ex; [|contradiction].
  destruct (qsplit q (qtau n k)) as [[a' r]|] eqn:Es; [|contradiction].
  destruct H as [H|[]]; injection H as <- <-; split; [exact Ex | exists r; exact Es].
Qed.

Theorem qperturbable_correct (k : nat) :
  qperturbable n (qexcl_table n) u zs k = true -> perturbable net wv k.
Proof.
  unfold qperturbable, qexcl_table; rewrite existsb_exists; intros [[p a] [Hin Hsp]].
  destruct (Nat.lt_ge_cases k (qsize n)) as [Hlt|Hge];
    [|rewrite nth_overflow in Hin by (rewrite map_length, seq_length; exact Hge); contradiction].
  rewrite (nth_map_seq (qexcl_params n)) in Hin by exact Hlt; simpl snd in Hsp.
  destruct (qexcl_params_correct k p a Hin) as [Hex [r Es]].
  unfold qexclusive in Hex; rewrite !Bool.andb_true_iff, forallb_forall in Hex.
  destruct Hex as [[[Hpw Hk] Hj] Hg].
  apply Nat.ltb_lt in Hpw, Hk; apply Bool.negb_true_iff in Hg.
  destruct (qsplit_correct p _ a r Es) as [Ha [Hr E]].
  exists p, (to_expr a), (to_expr r); split.
  - unfold exclusive_param_with; rewrite to_network_size, to_network_tau by exact Hk.
    split; [exact Hpw|]; split; [exact Hk|]; split.
    { intros j Hjn Hjk; rewrite to_network_tau by exact Hjn.
      assert (Hin' : In j (seq 0 (qsize n))) by (apply in_seq; lia); specialize (Hj j Hin').
      apply Bool.orb_true_iff in Hj as [Hj|Hj]; [apply Nat.eqb_eq in Hj; congruence|].
      apply qnot_occurs, Bool.negb_true_iff, Hj. }
    split; [apply qnot_occurs, Hg|]; split; [apply qnot_occurs, Ha|]; split;
      [apply qnot_occurs, Hr | intros; apply E].
  - unfold excl_coeff.
    rewrite (qeval_correct (q_input n) u (firstn k zs)) by
      (exact (input_correct n) || exact (qpoint_nth u) || (intros; apply zvals_firstn; lia)).
    rewrite <- Q2R_0; intros Heq; apply Q2R_eq_b in Heq; rewrite Heq in Hsp; discriminate.
Qed.

Variable dq : list Q.
Local Notation yb := (qybar n u zs dq).

Lemma qtopmost_perturbable_correct :
  qtopmost_perturbable n (qexcl_table n) u zs yb = true ->
  forall k, In k (kink_neurons net wv) -> zbar net (qD dq) wv k <> 0 ->
    (forall j, In j (kink_neurons net wv) -> (k < j)%nat -> zbar net (qD dq) wv j = 0) ->
    perturbable net wv k.
Proof.
  unfold qtopmost_perturbable; rewrite forallb_forall; intros H k Hk Hz Htop.
  rewrite qkink_neurons_correct in Hk.
  assert (Hzq : forall j, zbar net (qD dq) wv j = 0 <-> Qeq_bool (qzbar_from n u zs yb j) 0 = true).
  { intros j; rewrite qzbar_correct; unfold qzbar; rewrite Q2R_eq_b, Q2R_0; reflexivity. }
  specialize (H k Hk); cbv beta zeta in H; rewrite !Bool.orb_true_iff in H.
  destruct H as [[H|H]|H].
  - rewrite Bool.negb_involutive in H; exfalso; apply Hz, Hzq, H.
  - apply existsb_exists in H as [j [Hj Hkj]]; apply Bool.andb_true_iff in Hkj as [Hkj Hnz].
    apply Nat.ltb_lt in Hkj; rewrite <- qkink_neurons_correct in Hj.
    specialize (Htop j Hj Hkj); apply Hzq in Htop; rewrite Htop in Hnz; discriminate.
  - now apply qperturbable_correct.
Qed.

(** * The status of a point is sound *)

Definition status_sound (s : status) : Prop :=
  match s with
  | DiffAD => differentiable_at (n_params net) (net_eval net) wv (ad net (qD dq) wv)
  | Diff g => differentiable_at (n_params net) (net_eval net) wv (qpoint g)
  | NotDiff => ~ differentiable (n_params net) (net_eval net) wv
  | Unknown => True
  end.

Theorem qclassify_sound : qwf n = true -> status_sound (qclassify n (qexcl_table n) dq u).
Proof.
  intros Hwf; apply qwf_correct in Hwf; unfold qclassify, status_sound; cbv zeta.
  destruct (qNS_from n u zs yb) eqn:Ens; cbn [negb].
  - destruct (qtopmost_perturbable n (qexcl_table n) u zs yb) eqn:Etop; [|exact I].
    apply (T3.T5c_NS_not_differentiable net (qD dq) wv Hwf).
    + apply qNS_correct; exact Ens.
    + apply qtopmost_perturbable_correct, Etop.
  - apply T5b.T5b_not_NS_differentiable; [exact Hwf|].
    rewrite qNS_correct; unfold qNS; cbv zeta; rewrite Ens; discriminate.
Qed.

End Point.

Definition fallback_sound (n : qnet) (dq : list Q) (fb : list Q -> status) : Prop :=
  forall u, status_sound n u dq (fb u).

Lemma qstatus_sound (n : qnet) (dq : list Q) (fb : list Q -> status) (u : list Q) :
  qwf n = true -> fallback_sound n dq fb ->
  status_sound n u dq (qstatus n (qexcl_table n) dq fb u).
Proof.
  intros Hwf Hfb; unfold qstatus.
  generalize (qclassify_sound n u dq Hwf); destruct (qclassify n (qexcl_table n) dq u); auto.
Qed.

Lemma no_fallback_sound (n : qnet) (dq : list Q) : fallback_sound n dq no_fallback.
Proof. intros u; exact I. Qed.

(** * Counting by computation *)

Lemma words_Q2R (M : list Q) (W : nat) : words (map Q2R M) W = map (map Q2R) (qwords M W).
Proof.
  induction W as [|W IH]; [reflexivity|]; simpl.
  rewrite IH, flat_map_concat_map, map_map, flat_map_concat_map, concat_map, map_map.
  f_equal; apply map_ext; intros a; rewrite !map_map; reflexivity.
Qed.

Lemma count_words_Q2R (P : list R -> Prop) (M : list Q) (W : nat) :
  count P (words (map Q2R M) W) = count (fun u => P (map Q2R u)) (qwords M W).
Proof. rewrite words_Q2R; apply count_map. Qed.

Lemma count_filter {A : Type} (P : A -> Prop) (b : A -> bool) (l : list A) :
  (forall x, In x l -> (P x <-> b x = true)) -> count P l = length (filter b l).
Proof.
  induction l as [|x l IH]; intros H; [reflexivity|].
  simpl; destruct (b x) eqn:E.
  - rewrite count_cons_true by (apply H; [left; reflexivity | exact E]).
    simpl; rewrite IH; [reflexivity | intros y Hy; apply H; right; exact Hy].
  - rewrite count_cons_false by (rewrite H by (left; reflexivity); congruence).
    apply IH; intros y Hy; apply H; right; exact Hy.
Qed.

Lemma count_cons_iff {A : Type} (P : A -> Prop) (x : A) (l : list A) (c : bool) :
  (P x <-> c = true) -> count P (x :: l) = ((if c then 1 else 0) + count P l)%nat.
Proof.
  intros H; destruct c.
  - rewrite count_cons_true by (apply H; reflexivity); reflexivity.
  - rewrite count_cons_false by (rewrite H; discriminate); reflexivity.
Qed.

Section Tally.
Variables (n : qnet) (dq : list Q) (fb : list Q -> status).
Hypothesis Hwf : qwf n = true.
Hypothesis Hfb : fallback_sound n dq fb.

Local Notation net := (to_network n).

Lemma ad_differs_correct (u g : list Q) :
  (exists p, (p < n_params net)%nat /\ ad net (qD dq) (qpoint u) p <> qpoint g p) <->
  ad_differs (q_params n) (qad n dq u) g = true.
Proof.
  unfold ad_differs; rewrite existsb_exists; split.
  - intros [p [Hp H]]; exists p; split; [apply in_seq; simpl in Hp; lia|].
    apply Bool.negb_true_iff, Q2R_neq_b.
    rewrite qad_correct, qpoint_nth in H by exact Hp; exact H.
  - intros [p [Hp H]]; apply in_seq in Hp; exists p; split; [simpl; lia|].
    apply Bool.negb_true_iff, Q2R_neq_b in H.
    rewrite qad_correct, qpoint_nth by (simpl; lia); exact H.
Qed.

Lemma status_ndf (u : list Q) :
  qstatus n (qexcl_table n) dq fb u <> Unknown ->
  (~ differentiable (n_params net) (net_eval net) (qpoint u) <->
   match qstatus n (qexcl_table n) dq fb u with NotDiff => true | _ => false end = true).
Proof.
  generalize (qstatus_sound n dq fb u Hwf Hfb).
  destruct (qstatus n (qexcl_table n) dq fb u) as [|g| |]; simpl; intros Hs Hk;
    [| |tauto|congruence]; (split; [|discriminate]); intros Hnd; exfalso; apply Hnd;
    eexists; exact Hs.
Qed.

Lemma status_inc (u : list Q) :
  qstatus n (qexcl_table n) dq fb u <> Unknown ->
  ((exists g, differentiable_at (n_params net) (net_eval net) (qpoint u) g /\
      exists p, (p < n_params net)%nat /\ ad net (qD dq) (qpoint u) p <> g p) <->
   match qstatus n (qexcl_table n) dq fb u with
   | Diff g => ad_differs (q_params n) (qad n dq u) g | _ => false end = true).
Proof.
  generalize (qstatus_sound n dq fb u Hwf Hfb).
  destruct (qstatus n (qexcl_table n) dq fb u) as [|g| |]; simpl; intros Hs Hk;
    [split| |split|congruence].
  - intros [g [Hd [p [Hp H]]]]; exfalso; apply H.
    exact (differentiable_at_unique _ _ _ _ _ Hs Hd p Hp).
  - discriminate.
  - rewrite <- ad_differs_correct; split.
    + intros [g' [Hd' [p [Hp H]]]]; exists p; split; [exact Hp|].
      rewrite (differentiable_at_unique _ _ _ _ _ Hs Hd') by exact Hp; exact H.
    + intros Hp; exists (qpoint g); split; [exact Hs | exact Hp].
  - intros [g [Hd _]]; exfalso; apply Hs; exists g; exact Hd.
  - discriminate.
Qed.

Theorem qtally_correct (M : list Q) (a b : nat) :
  qtally n dq fb M = Some (a, b) ->
  ndf_count net (map Q2R M) = a /\ inc_count net (qD dq) (map Q2R M) = b.
Proof.
  unfold qtally, ndf_count, inc_count; rewrite !count_words_Q2R; simpl n_params.
  fold (qpoint []); unfold qpoint.
  generalize (qwords M (q_params n)) as l; intros l; revert a b.
  induction l as [|u l IH]; intros a b H; simpl in H.
  - injection H as <- <-; split; reflexivity.
  - destruct (fold_right _ _ l) as [[a' b']|] eqn:E; [|discriminate].
    destruct (IH a' b' eq_refl) as [IHa IHb].
    destruct (qstatus n (qexcl_table n) dq fb u) as [|g| |] eqn:Es; try discriminate;
      injection H as <- <-; assert (Hk : qstatus n (qexcl_table n) dq fb u <> Unknown) by congruence.
    + rewrite (count_cons_iff _ _ _ false), (count_cons_iff _ _ _ false).
      * rewrite IHa, IHb; split; reflexivity.
      * fold (qpoint u); rewrite (status_inc u Hk), Es; reflexivity.
      * fold (qpoint u); rewrite (status_ndf u Hk), Es; reflexivity.
    + rewrite (count_cons_iff _ _ _ false), (count_cons_iff _ _ _ (ad_differs (q_params n) (qad n dq u) g)).
      * rewrite IHa, IHb; split; [reflexivity|]; destruct (ad_differs _ _ _); reflexivity.
      * fold (qpoint u); rewrite (status_inc u Hk), Es; reflexivity.
      * fold (qpoint u); rewrite (status_ndf u Hk), Es; reflexivity.
    + rewrite (count_cons_iff _ _ _ true), (count_cons_iff _ _ _ false).
      * rewrite IHa, IHb; split; reflexivity.
      * fold (qpoint u); rewrite (status_inc u Hk), Es; reflexivity.
      * fold (qpoint u); rewrite (status_ndf u Hk), Es; reflexivity.
Qed.

End Tally.

Theorem qns_tally_correct (n : qnet) (dq M : list Q) :
  ns_count (to_network n) (qD dq) (map Q2R M) = qns_tally n dq M.
Proof.
  unfold ns_count, qns_tally; rewrite count_words_Q2R; simpl n_params.
  apply count_filter; intros u _; fold (qpoint u); apply qNS_correct.
Qed.
